from django.contrib import admin

from cityops.core.admin_timeline import TimelineAdminMixin
from cityops.core.models import CalendarAdjustment, CalendarNotice, Notification, TimelineEntry


@admin.register(TimelineEntry)
class TimelineEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "subject_type", "subject_id", "seq", "action", "actor_name", "from_state", "to_state")
    list_filter = ("subject_type", "action")
    search_fields = ("subject_id", "actor_name", "note")

    # The timeline is append-only: the admin may read it, never change it.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "title", "read_at")
    list_filter = ("kind",)


# The working-day calendar (core.calendar): a saved or deleted adjustment reaches every process's deadlines
# within CITYOPS_CALENDAR_CHECK_SECONDS; `cityops calendar import` loads a whole notice.
@admin.register(CalendarNotice)
class CalendarNoticeAdmin(TimelineAdminMixin, admin.ModelAdmin):
    list_display = ("year", "source", "updated_at")


@admin.register(CalendarAdjustment)
class CalendarAdjustmentAdmin(TimelineAdminMixin, admin.ModelAdmin):
    list_display = ("date", "kind", "name", "source", "notice")
    list_filter = ("kind", "notice")
    search_fields = ("name", "source")
    date_hierarchy = "date"
