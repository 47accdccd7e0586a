from django.contrib import admin, messages
from django.db import transaction

from cityops.core.admin_timeline import TimelineAdminMixin
from cityops.iot.models import Alarm, DeadLetter, Device, Reading, Rollup, Rule
from cityops.iot.services import device_delete, device_token_issue

# Readings have a composite primary key (device, message id), which Django's admin does not support: they
# are read on the device page and through the API.


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "type", "district_name", "department", "status", "last_seen_at")
    list_filter = ("type", "status", "department")
    search_fields = ("code", "name", "address")
    readonly_fields = ("region_code", "district_code", "district_name", "street_name", "community_name",
                       "grid_code", "last_seen_at", "token_id")
    actions = ["issue_token"]

    # Deleting a device goes through the service: readings and rollups (no database foreign key) go with it in
    # the same transaction, and the deletion is on the device's timeline.
    def delete_model(self, request, obj):
        device_delete(device=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for device in queryset.order_by("pk"):
                device_delete(device=device, actor=request.user)

    def get_deleted_objects(self, objs, request):
        """The confirmation page: Django lists what the ORM cascade takes (rules, alarms); readings and rollups
        are outside it (device_delete removes them) and are counted here, not listed — a busy sensor has
        millions."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        ids = [device.pk for device in objs]
        for model in (Reading, Rollup):
            count = model.objects.filter(device_id__in=ids).count()
            if count:
                model_count[model._meta.verbose_name_plural] = count
        return deleted, model_count, perms_needed, protected

    @admin.action(description="签发 HTTP 上报令牌 / issue an HTTP token")
    def issue_token(self, request, queryset):
        for device in queryset[:20]:
            token = device_token_issue(device=device, actor=request.user)
            self.message_user(request, f"{device.code}: {token}", messages.WARNING)


@admin.register(Rule)
class RuleAdmin(TimelineAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "device_type", "device", "metric", "threshold", "severity", "active")
    list_filter = ("kind", "device_type", "severity", "active")
    raw_id_fields = ("device",)


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    """Read-only here: alarm states change only through the workflow (API / alarm page)."""

    list_display = ("id", "device", "rule", "severity", "state", "hits", "opened_at", "case_code")
    list_filter = ("state", "severity")
    search_fields = ("device__code", "case_code")
    list_select_related = ("device", "rule")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # an alarm's record (and its case link) goes only with its device (services.device_delete)


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ("received_at", "source", "device_code", "reason", "detail")
    list_filter = ("reason", "source")
    search_fields = ("device_code", "topic")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
