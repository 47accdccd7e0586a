"""The forms of the dispute pages: registering a dispute (the centre's desk, the resident's application, a city case
turned into a dispute) and the actions whose input needs choices (a channel and committee, a mediator, a party, the
parties' consents, a termination reason, the routes told). Every form's cleaned data is the action's input schema;
the services decide (their coded errors are shown on the page)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from cityops.accounts.models import OrgUnit
from cityops.core import actions, roles
from cityops.disputes import schemas as s
from cityops.disputes.models import Dispute, Party

CONSENT_LABELS = {"written": _("书面同意"), "recorded_call": _("电话录音"), "in_person": _("当面口头同意（已记录）"),
                  "tablet": _("平板签名确认")}
ROUTE_LABELS = {"arbitration": _("申请仲裁"), "administrative": _("行政处理"), "court": _("向人民法院起诉"),
                "police": _("报警处理"), "petition": _("信访渠道")}


def person_name(user) -> str:
    return (user.first_name or user.username) if user is not None else ""


# --- registering ---------------------------------------------------------------------------------------------
class _PartyFields:
    """Two parties (the applicant and the respondent), each a person or an organisation."""

    @staticmethod
    def add(form, prefix: str, *, with_id: bool = True):
        form.fields[f"{prefix}_kind"] = forms.ChoiceField(label=_("类型"), choices=Party.Kind.choices,
                                                          initial="person")
        form.fields[f"{prefix}_name"] = forms.CharField(label=_("姓名或名称"), max_length=100)
        if with_id:
            form.fields[f"{prefix}_id_number"] = forms.CharField(label=_("身份证号（自然人）"), max_length=40,
                                                                 required=False)
        form.fields[f"{prefix}_uscc"] = forms.CharField(label=_("统一社会信用代码（组织）"), max_length=40,
                                                        required=False)
        form.fields[f"{prefix}_phone"] = forms.CharField(label=_("联系电话"), max_length=30, required=False)

    @staticmethod
    def party(data: dict, prefix: str, side: str) -> dict:
        return {"side": side, "kind": data[f"{prefix}_kind"], "name": data[f"{prefix}_name"],
                "id_number": data.get(f"{prefix}_id_number", ""), "uscc": data.get(f"{prefix}_uscc", ""),
                "phone": data.get(f"{prefix}_phone", "")}


class _Groups:
    """The form's fields in groups for the page: the dispute, its place when given on the map (address, lon, lat:
    the map picker, cases/_map_picker.html), the applicant (a_…), the respondent (r_…)."""

    PICKED = ("address", "lon", "lat")

    @property
    def picked(self) -> bool:
        """The place is picked on a map: the form has the point's fields."""
        return "lon" in self.fields and "lat" in self.fields

    @property
    def main(self):
        skip = self.PICKED if self.picked else ()
        return [self[n] for n in self.fields if not n.startswith(("a_", "r_")) and n not in skip]

    @property
    def applicant(self):
        return [self[n] for n in self.fields if n.startswith("a_")]

    @property
    def respondent(self):
        return [self[n] for n in self.fields if n.startswith("r_")]


class DisputeForm(_Groups, forms.Form):
    """The centre's desk (walk-in; a paper referral) and the operator's page: what, where, who."""

    SOURCES = [("walk_in", _("来访")), ("hotline", _("热线")), ("court", _("法院委派")), ("police", _("公安移交")),
               ("petition", _("信访转办"))]

    title = forms.CharField(label=_("纠纷事由"), max_length=200)
    kind = forms.ChoiceField(label=_("纠纷类型"), choices=Dispute.Kind.choices)
    description = forms.CharField(label=_("纠纷情况"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    amount = forms.DecimalField(label=_("争议金额（元）"), required=False, min_value=Decimal(0),
                                max_value=Decimal("999999999999.99"), decimal_places=2, max_digits=14)
    address = forms.CharField(label=_("纠纷发生地址"), max_length=300, required=False)
    lon = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90)
    risk_level = forms.ChoiceField(label=_("风险等级"), choices=Dispute.Risk.choices, initial="low")

    def __init__(self, *args, source_choices: bool = True, located: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if source_choices:
            self.fields["source"] = forms.ChoiceField(label=_("来源"), choices=self.SOURCES, initial="walk_in")
            self.fields["entrustment"] = forms.ChoiceField(label=_("法院委托"), choices=Dispute.Entrustment.choices,
                                                           required=False)
        if not located:  # the city case gives the place
            for name in ("address", "lon", "lat"):
                del self.fields[name]
        _PartyFields.add(self, "a")
        _PartyFields.add(self, "r")

    def parties(self) -> list[dict]:
        d = self.cleaned_data
        return [_PartyFields.party(d, "a", "applicant"), _PartyFields.party(d, "r", "respondent")]

    def intake(self) -> dict:
        """The arguments of services.register_dispute from this form."""
        d = self.cleaned_data
        out = {"title": d["title"], "kind": d["kind"], "description": d["description"], "amount": d.get("amount"),
               "risk_level": d["risk_level"], "parties": self.parties()}
        for name in ("address", "lon", "lat", "source", "entrustment"):
            if name in d:
                out[name] = d[name] if d[name] is not None else None
        return out


class ApplyForm(_Groups, forms.Form):
    """A resident applies for mediation (portal): their own name and contact, the other party, what and where."""

    kind = forms.ChoiceField(label=_("纠纷类型"), choices=Dispute.Kind.choices)
    title = forms.CharField(label=_("申请事项"), max_length=200)
    description = forms.CharField(label=_("纠纷情况"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    address = forms.CharField(label=_("纠纷发生地址"), max_length=300)
    amount = forms.DecimalField(label=_("争议金额（元，可不填）"), required=False, min_value=Decimal(0),
                                max_value=Decimal("999999999999.99"), decimal_places=2, max_digits=14)
    a_name = forms.CharField(label=_("您的姓名"), max_length=100)
    a_id_number = forms.CharField(label=_("您的身份证号"), max_length=40)
    a_phone = forms.CharField(label=_("您的联系电话"), max_length=30)
    r_kind = forms.ChoiceField(label=_("对方类型"), choices=Party.Kind.choices, initial="person")
    r_name = forms.CharField(label=_("对方姓名或名称"), max_length=100)
    r_uscc = forms.CharField(label=_("对方统一社会信用代码（组织，可不填）"), max_length=40, required=False)
    r_phone = forms.CharField(label=_("对方联系电话（可不填）"), max_length=30, required=False)

    def intake(self) -> dict:
        d = self.cleaned_data
        return {"title": d["title"], "kind": d["kind"], "description": d["description"], "address": d["address"],
                "amount": d.get("amount"), "parties": [
                    {"side": "applicant", "kind": "person", "name": d["a_name"], "id_number": d["a_id_number"],
                     "phone": d["a_phone"]},
                    {"side": "respondent", "kind": d["r_kind"], "name": d["r_name"], "uscc": d.get("r_uscc", ""),
                     "phone": d.get("r_phone", "")}]}


class RiskForm(forms.Form):
    level = forms.ChoiceField(label=_("上调至"), choices=[("medium", _("中")), ("high", _("高"))])
    reason = forms.CharField(label=_("原因"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


# --- the actions' forms ---------------------------------------------------------------------------------------
class _ActionForm(forms.Form):
    @classmethod
    def for_object(cls, dispute, data=None, *, auto_id="%s", initial=None):
        return cls(data, dispute=dispute, auto_id=auto_id, initial=initial)

    def __init__(self, *args, dispute=None, **kwargs):
        self.dispute = dispute
        super().__init__(*args, **kwargs)


class AcceptForm(_ActionForm):
    channel = forms.ChoiceField(label=_("化解渠道"), choices=Dispute.Channel.choices)
    committee_id = forms.TypedChoiceField(label=_("调解组织"), coerce=int)
    note = forms.CharField(label=_("备注"), max_length=4000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        committees = OrgUnit.objects.filter(kind=OrgUnit.Kind.COMMITTEE, active=True).order_by("region_code", "code")
        self.fields["committee_id"].choices = [(c.pk, c.name) for c in committees]


class AssignForm(_ActionForm):
    mediator_id = forms.TypedChoiceField(label=_("调解员"), coerce=int)
    note = forms.CharField(label=_("备注"), max_length=4000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.none()
        if self.dispute is not None and self.dispute.committee_id:
            people = get_user_model().objects.filter(is_active=True, groups__name=roles.MEDIATOR,
                                                     org_units=self.dispute.committee_id).order_by("pk").distinct()
        self.fields["mediator_id"].choices = [(u.pk, person_name(u)) for u in people]


def _party_choices(dispute) -> list[tuple[int, str]]:
    if dispute is None:
        return []
    return [(p.pk, f"{p.get_side_display()} · {p.name}") for p in dispute.parties.all()]


class RefuseForm(_ActionForm):
    party_id = forms.TypedChoiceField(label=_("拒绝调解的当事人"), coerce=int)
    reason = forms.CharField(label=_("原因"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party_id"].choices = _party_choices(self.dispute)


class ExtendForm(_ActionForm):
    """One consent per party: how each party agreed (none chosen = no consent; the service refuses then)."""

    extra_days = forms.IntegerField(label=_("延长天数"), min_value=1, max_value=90)
    reason = forms.CharField(label=_("原因"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        methods = [("", _("未同意"))] + [(m, CONSENT_LABELS[m]) for m in s.CONSENT_METHODS]
        for pk, label in _party_choices(self.dispute):
            self.fields[f"consent_{pk}"] = forms.ChoiceField(label=_("%(party)s 的同意方式") % {"party": label},
                                                             choices=methods, required=False)

    def clean(self):
        data = super().clean()
        consents = []
        for name in [n for n in list(data) if n.startswith("consent_")]:
            method = data.pop(name)
            if method:
                consents.append({"party_id": int(name.removeprefix("consent_")), "method": method})
        data["consents"] = consents
        return data


class AgreementForm(_ActionForm):
    facts = forms.CharField(label=_("纠纷主要事实"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    terms = forms.CharField(label=_("协议内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    performance_method = forms.CharField(label=_("履行方式"), max_length=200)
    performance_deadline = forms.DateField(label=_("履行期限"), required=False,
                                           widget=forms.DateInput(attrs={"type": "date"}))


class ConfirmationForm(_ActionForm):
    court = forms.CharField(label=_("申请确认的法院"), max_length=200)
    note = forms.CharField(label=_("备注"), max_length=4000, required=False)


class FollowUpForm(_ActionForm):
    result = forms.CharField(label=_("回访情况"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    satisfied = forms.BooleanField(label=_("当事人满意"), required=False, initial=True)


class TerminateForm(_ActionForm):
    reason = forms.ChoiceField(label=_("终止原因"), choices=Dispute.TerminationReason.choices)
    detail = forms.CharField(label=_("具体情况（其他原因必填）"), max_length=4000, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class ReferForm(_ActionForm):
    routes = forms.MultipleChoiceField(label=_("已告知的救济途径"), widget=forms.CheckboxSelectMultiple,
                                       choices=[(r, ROUTE_LABELS[r]) for r in s.ROUTES])
    informed_how = forms.CharField(label=_("告知方式"), max_length=200)
    note = forms.CharField(label=_("备注"), max_length=4000, required=False)


ACTION_FORMS = {"accept": AcceptForm, "assign": AssignForm, "refuse": RefuseForm, "extend": ExtendForm,
                "agree": AgreementForm, "request_confirmation": ConfirmationForm, "follow_up": FollowUpForm,
                "terminate": TerminateForm, "refer": ReferForm}


def action_form(dispute, t, data=None, *, initial=None):
    """The form of action `t` on the dispute's page: its own form here, else the one made from its input."""
    form_cls = ACTION_FORMS.get(t.action)
    if form_cls is None:
        return actions.action_form(dispute, t, data, auto_id=f"{t.action}-%s")
    return form_cls.for_object(dispute, data, auto_id=f"{t.action}-%s", initial=initial)
