from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cityops.accounts.models import ApiToken, OrgUnit, User
from cityops.accounts.services import api_token_revoke
from cityops.core.admin_timeline import TimelineAdminMixin


@admin.register(User)
class UserAdmin(TimelineAdminMixin, BaseUserAdmin):
    timeline_exclude = ("password",)  # who may see what (groups, units, regions) is on the timeline; never the hash
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
    # Revocation goes through `cityops token revoke` / the token API (accounts.services.api_token_revoke), which
    # puts it on the timeline; here a token is only read.
    readonly_fields = ("user", "name", "key_id", "key_hash", "created_at", "last_used_at", "expires_at", "revoked_at")
    search_fields = ("key_id", "user__username", "name")

    actions = ["revoke"]

    @admin.action(description=_("吊销 / revoke"))
    def revoke(self, request, queryset):
        with transaction.atomic():
            for token in queryset:
                api_token_revoke(key_id=token.key_id, actor=request.user)

    def has_add_permission(self, request):
        # Tokens are created with `cityops token create` so the secret is shown once, to the person who asked.
        return False
