from django.contrib import admin

from cityops.portal.models import PortalReport


@admin.register(PortalReport)
class PortalReportAdmin(admin.ModelAdmin):
    list_display = ("case", "supports", "satisfied", "rated_at", "created_at")
    list_select_related = ("case", "supports")
    search_fields = ("case__code",)
    readonly_fields = [f.name for f in PortalReport._meta.fields]

    def has_add_permission(self, request):
        return False
