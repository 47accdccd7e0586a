"""Reference data edited in the admin goes on the timeline like every other change (DESIGN.md: "every edit
of reference data appends an entry"), with the fields before and after."""

from django.db import transaction
from django.forms.models import model_to_dict

from cityops.core.timeline import timeline_append


def _plain_value(value):
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (list, tuple, set)):  # many-to-many: the related objects, by name, in a stable order
        return sorted(str(v) for v in value)
    return str(value)


def _plain(values: dict, exclude=()) -> dict:
    return {k: _plain_value(v) for k, v in values.items() if k not in exclude}


class TimelineAdminMixin:
    """For ModelAdmin: each save and delete appends a timeline entry in the same transaction (the admin's
    change view is one transaction). A save is recorded after its many-to-many fields are saved too, so a
    change of a user's groups or units is on the timeline; `timeline_exclude` fields (secrets) never are —
    only that they changed."""

    timeline_exclude: tuple[str, ...] = ()

    def save_model(self, request, obj, form, change):
        stored = type(obj).objects.filter(pk=obj.pk).first() if change and obj.pk else None
        obj._timeline_before = model_to_dict(stored) if stored is not None else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        raw_before, raw_after = getattr(obj, "_timeline_before", {}), model_to_dict(obj)
        before, after = _plain(raw_before, self.timeline_exclude), _plain(raw_after, self.timeline_exclude)
        changed = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
        for k in self.timeline_exclude:
            if k in raw_after and raw_before.get(k) != raw_after[k]:
                changed[k] = "changed"
        with transaction.atomic():
            timeline_append(
                subject=obj,
                action="reference_change" if change else "reference_create",
                actor=request.user,
                params={"changed": changed},
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            timeline_append(
                subject=obj, action="reference_delete", actor=request.user, params={"was": _plain(model_to_dict(obj), self.timeline_exclude)}
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                timeline_append(
                    subject=obj, action="reference_delete", actor=request.user, params={"was": _plain(model_to_dict(obj), self.timeline_exclude)}
                )
            super().delete_queryset(request, queryset)
