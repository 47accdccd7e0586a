from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from cityops.open311.models import Open311Client, Open311Request, ServiceAttribute
from cityops.open311.services import client_create, client_revoke


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "key_id", "contact", "rate_limit_per_minute", "created_at", "last_used_at", "revoked_at")
    search_fields = ("name", "key_id", "contact")
    readonly_fields = ("key_id", "created_at", "last_used_at", "revoked_at")
    fields = ("name", "contact", "rate_limit_per_minute", "key_id", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new client gets its key through the service, shown once to the admin who created it.
        client, key = client_create(name=obj.name, contact=obj.contact, actor=request.user)
        if obj.rate_limit_per_minute:
            client.rate_limit_per_minute = obj.rate_limit_per_minute
            client.save(update_fields=["rate_limit_per_minute"])
        obj.pk = client.pk
        obj.key_id, obj.key_hash, obj.created_at = client.key_id, client.key_hash, client.created_at
        messages.warning(request, _("api_key（只显示这一次，请妥善保存）：%(key)s") % {"key": key})

    @admin.action(description=_("吊销所选客户端的 api_key"))
    def revoke(self, request, queryset):
        for client in queryset:
            client_revoke(client=client, actor=request.user)


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ("category_code", "code", "datatype", "required", "order", "description", "active")
    list_filter = ("datatype", "required", "active")
    search_fields = ("category_code", "code", "description")


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):
    list_display = ("case", "client", "token", "created_at")
    search_fields = ("case__code", "token")
    list_select_related = ("case", "client")
    readonly_fields = [f.name for f in Open311Request._meta.fields]

    def has_add_permission(self, request):
        return False
