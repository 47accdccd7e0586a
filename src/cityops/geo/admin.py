from django.contrib import admin

from cityops.core.admin_timeline import TimelineAdminMixin
from cityops.geo import index
from cityops.geo.models import Region


@admin.register(Region)
class RegionAdmin(TimelineAdminMixin, admin.ModelAdmin):
    """Read-mostly: shapes come from imports and the grid generator (services); names may be corrected and 户数
    (households, what screening campaigns' coverage is measured against) entered here."""

    list_display = ("code", "name", "level", "parent", "area_km2", "households", "generated")
    list_filter = ("level", "generated")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    fields = ("code", "name", "level", "parent", "area_km2", "centroid_lon", "centroid_lat", "households",
              "households_estimated", "generated", "source")
    readonly_fields = ("code", "level", "parent", "area_km2", "centroid_lon", "centroid_lat", "generated", "source")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        index.bump_version()  # names live in the index too
