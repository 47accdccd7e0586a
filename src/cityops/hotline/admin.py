from django.contrib import admin

from cityops.hotline.models import HotlineCall


@admin.register(HotlineCall)
class HotlineCallAdmin(admin.ModelAdmin):
    """Read-only: calls are written by the intake service; corrections feed the classifier."""

    list_display = ("created_at", "chosen_category", "suggested_category", "corrected", "kind", "case_code", "operator")
    list_filter = ("corrected", "kind", "chosen_category")
    search_fields = ("text", "address", "case_code")
    readonly_fields = [f.name for f in HotlineCall._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
