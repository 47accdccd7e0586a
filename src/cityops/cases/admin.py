from django.contrib import admin

from cityops.cases.models import Category, RoutingRule
from cityops.core.admin_timeline import TimelineAdminMixin


@admin.register(Category)
class CategoryAdmin(TimelineAdminMixin, admin.ModelAdmin):
    list_display = ("code", "kind", "major_zh", "name_zh", "name_en", "department_code", "handle_limit_wh", "urgent", "active")
    list_filter = ("kind", "major_zh", "urgent", "active")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(RoutingRule)
class RoutingRuleAdmin(TimelineAdminMixin, admin.ModelAdmin):
    list_display = ("category", "region_prefix", "department", "active")
    list_filter = ("active",)
    search_fields = ("region_prefix", "category__code", "department__code")
    autocomplete_fields = ("category",)
