"""The disputes reference data a city sets up in the admin: what each mediation committee takes (routing reads it)
and the bodies that refer disputes through the API. Disputes themselves change only through their actions (the
pages and the API), so the admin shows them read-only and without the parties' personal data."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cityops.core.admin_timeline import TimelineAdminMixin
from cityops.disputes.models import Campaign, CommitteeRemit, Dispute, Referrer


class CommitteeRemitForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(label=_("受理纠纷类型"), choices=Dispute.Kind.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple, help_text=_("不选：受理全部类型"))

    class Meta:
        model = CommitteeRemit
        fields = ("committee", "channel", "kinds")

    def clean_committee(self):
        committee = self.cleaned_data["committee"]
        if committee.kind != "committee":
            raise forms.ValidationError(_("只能为调解委员会设置职能"))
        return committee


@admin.register(CommitteeRemit)
class CommitteeRemitAdmin(TimelineAdminMixin, admin.ModelAdmin):
    form = CommitteeRemitForm
    list_display = ("committee", "channel", "kinds")
    list_filter = ("channel",)
    search_fields = ("committee__code", "committee__name")
    autocomplete_fields = ("committee",)


@admin.register(Referrer)
class ReferrerAdmin(TimelineAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "kind", "centre", "user", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    autocomplete_fields = ("centre", "user")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ("code", "title", "kind", "state", "risk_level", "centre", "committee", "mediator", "created_at")
    list_filter = ("state", "kind", "risk_level", "source", "channel")
    search_fields = ("code", "title")
    fields = ("code", "title", "kind", "source", "channel", "state", "risk_level", "level", "centre", "committee",
              "mediator", "region_code", "deadline_at", "overdue", "created_at")


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "starts_on", "ends_on", "goal_households")
    search_fields = ("code", "name")
