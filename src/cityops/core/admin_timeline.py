"""Reference data edited in the admin goes on the timeline like every other change (DESIGN.md: "every edit
of reference data appends an entry"), with the fields before and after."""

from django.db import transaction
from django.forms.models import model_to_dict

from cityops.core.timeline import timeline_append


def _plain(values: dict) -> dict:
    return {k: (v if isinstance(v, (str, int, float, bool, type(None))) else str(v)) for k, v in values.items()}


class TimelineAdminMixin:
    """For ModelAdmin: each save and delete appends a timeline entry in the same transaction."""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = _plain(model_to_dict(type(obj).objects.get(pk=obj.pk))) if change and obj.pk else {}
            super().save_model(request, obj, form, change)
            after = _plain(model_to_dict(obj))
            changed = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
            timeline_append(
                subject=obj,
                action="reference_change" if change else "reference_create",
                actor=request.user,
                params={"changed": changed},
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            timeline_append(
                subject=obj, action="reference_delete", actor=request.user, params={"was": _plain(model_to_dict(obj))}
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                timeline_append(
                    subject=obj, action="reference_delete", actor=request.user, params={"was": _plain(model_to_dict(obj))}
                )
            super().delete_queryset(request, queryset)
