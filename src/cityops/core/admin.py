from django.contrib import admin

from cityops.core.models import Notification, TimelineEntry


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
