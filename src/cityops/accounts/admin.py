from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from cityops.accounts.models import ApiToken, OrgUnit, User
from cityops.core.admin_timeline import TimelineAdminMixin


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((_("城市运行"), {"fields": ("phone", "org_units", "region_codes")}),)
    list_display = ("username", "first_name", "is_active", "is_staff")
    filter_horizontal = ("groups", "user_permissions", "org_units")


@admin.register(OrgUnit)
class OrgUnitAdmin(TimelineAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "kind", "region_code", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name", "name_en")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("key_id", "user", "name", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = ("key_id", "key_hash", "created_at", "last_used_at")
    search_fields = ("key_id", "user__username", "name")

    def has_add_permission(self, request):
        # Tokens are created with `cityops token create` so the secret is shown once, to the person who asked.
        return False
