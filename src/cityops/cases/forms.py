"""Forms of the case pages. They only parse and shape input; every rule (who, when, limits, reasons) is
checked by the services and the workflow guards, so a form never accepts a state."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from cityops.accounts.models import OrgUnit
from cityops.cases import evaluation
from cityops.cases.conf import get as conf_get
from cityops.cases.models import Case
from cityops.cases.templatetags.cases_tags import state_name
from cityops.cases.workflow import CASE_WORKFLOW
from cityops.core.schemas import EARLIEST, LATEST


def _labelled(units) -> list[tuple[str, str]]:
    return [(code, f"{name}（{code}）" if name != code else code) for code, name in units]


def unit_choices() -> list[tuple[str, str]]:
    """Departments a case can be dispatched to or consulted with (streets and communities take cases by
    claiming them at their level, or from their district's command centre)."""
    units = OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT, active=True).order_by("code").values_list("code", "name")
    return _labelled(units)


def district_unit_choices(district_code: str) -> list[tuple[str, str]]:
    """What a district's command centre dispatches to (区级联): the district's bureaus, then its streets."""
    units = OrgUnit.objects.filter(kind__in=(OrgUnit.Kind.DEPARTMENT, OrgUnit.Kind.STREET), active=True,
                                   region_code__startswith=district_code).order_by("kind", "code")
    return _labelled((u.code, u.name) for u in units if u.level in ("district", "street"))


def dispatch_choices(case) -> list[tuple[str, str]]:
    """The units a case can be dispatched to where it waits: a case at the district level goes to the district's
    own units; any other to the departments."""
    if case.level == "district" and case.district_code:
        return district_unit_choices(case.district_code)
    return unit_choices()


class MultiFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to MAX_PHOTOS images in one input; the service sniffs each file's type and size."""

    widget = MultiFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        files = [f for f in files if f]
        limit = int(conf_get("MAX_PHOTOS"))
        if len(files) > limit:
            raise forms.ValidationError(_("最多上传 %(n)s 张照片") % {"n": limit})
        if self.required and not files:
            raise forms.ValidationError(_("请上传照片"))
        return files


# --- intake --------------------------------------------------------------------------------------------------
class IntakeForm(forms.Form):
    category = forms.CharField(label=_("案件类别"), max_length=8)
    lon = forms.CharField(label=_("经度"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    lat = forms.CharField(label=_("纬度"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    address = forms.CharField(label=_("地址"), max_length=300, required=False)
    description = forms.CharField(label=_("问题描述"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Case.Urgency.choices, initial=Case.Urgency.NORMAL)
    source = forms.ChoiceField(label=_("来源"), choices=Case.Source.choices, required=False)
    hotline_kind = forms.ChoiceField(label=_("工单类型"), choices=[("", "—"), *Case.HotlineKind.choices], required=False)
    reporter_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False,
                                     widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    anonymous = forms.BooleanField(label=_("匿名反映（部门看不到反映人和电话）"), required=False)
    photos = PhotosField(label=_("现场照片"), required=False,
                         widget=MultiFileInput(attrs={"accept": "image/jpeg,image/png,image/webp", "capture": "environment"}))
    self_handle = forms.BooleanField(label=_("已当场处置（自处理）"), required=False)
    self_handle_result = forms.CharField(label=_("处置结果"), max_length=2000, required=False,
                                         widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, field_worker: bool = False, may_be_anonymous: bool = True, **kwargs):
        """`may_be_anonymous`: a caller or a resident may stay anonymous; staff report as themselves."""
        super().__init__(*args, **kwargs)
        self.field_worker = field_worker
        if not may_be_anonymous:
            del self.fields["anonymous"]
        if field_worker:
            # A grid worker reports from the field: the source is theirs, hotline fields do not apply.
            for name in ("source", "hotline_kind", "reporter_phone"):
                del self.fields[name]
        else:
            for name in ("self_handle", "self_handle_result"):
                del self.fields[name]
            self.fields["source"].initial = Case.Source.HOTLINE

    def clean(self):
        data = super().clean()
        if data.get("self_handle"):
            if not data.get("photos"):
                self.add_error("photos", _("自处理需要上传现场照片"))
            if not (data.get("self_handle_result") or "").strip():
                self.add_error("self_handle_result", _("请填写处置结果"))
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        kwargs = {
            "category": d["category"],
            "description": d["description"],
            "lon": d.get("lon") or None,
            "lat": d.get("lat") or None,
            "address": d.get("address", ""),
            "urgency": d["urgency"],
            "anonymous": bool(d.get("anonymous")),
        }
        if not self.field_worker:
            kwargs.update(source=d.get("source") or "", hotline_kind=d.get("hotline_kind") or "",
                          reporter_phone=d.get("reporter_phone") or "")
        return kwargs


# --- list filters --------------------------------------------------------------------------------------------
class CaseFilterForm(forms.Form):
    q = forms.CharField(label=_("编号/关键词"), required=False)
    state = forms.ChoiceField(label=_("状态"), required=False)
    category = forms.ChoiceField(label=_("类别"), required=False)
    district = forms.ChoiceField(label=_("区"), required=False)
    department = forms.ChoiceField(label=_("主办部门"), required=False)
    level = forms.ChoiceField(label=_("处置层级"), required=False, choices=[("", _("全部")), *Case.Level.choices])
    overdue = forms.BooleanField(label=_("仅超期"), required=False)
    from_ = forms.DateField(label=_("上报日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    to = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, categories=(), districts=(), **kwargs):
        super().__init__(*args, **kwargs)
        any_ = [("", _("全部"))]
        states = [(code, state_name(code)) for code in CASE_WORKFLOW.states]
        # A comma list of states (a queue link) stays selectable as it came.
        wanted = self.data.get("state", "") if self.is_bound else ""
        if wanted and wanted not in dict(states):
            states.append((wanted, wanted))
        self.fields["state"].choices = any_ + states
        self.fields["category"].choices = any_ + [(c.code, f"{c.code} {c.name_zh}") for c in categories]
        self.fields["district"].choices = any_ + list(districts)
        self.fields["department"].choices = any_ + unit_choices()

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        d = self.cleaned_data
        out = {k: d[k] for k in ("q", "state", "category", "district", "department", "level") if d.get(k)}
        if d.get("overdue"):
            out["overdue"] = True
        if d.get("from_"):
            out["from"] = d["from_"]
        if d.get("to"):
            out["to"] = d["to"]
        return out


# --- actions -------------------------------------------------------------------------------------------------
class CheckForm(forms.Form):
    found = forms.TypedChoiceField(label=_("核实结果"), choices=[("1", _("情况属实")), ("0", _("情况不属实"))],
                                   coerce=lambda v: v == "1", initial="1")
    note = forms.CharField(label=_("备注"), max_length=2000, required=False)


class ExtendForm(forms.Form):
    extra_hours = forms.FloatField(label=_("延长（工作小时）"), min_value=0.5, max_value=720, initial=8)
    reason = forms.CharField(label=_("原因"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class DispatchForm(forms.Form):
    department = forms.ChoiceField(label=_("主办部门"))
    assisting = forms.MultipleChoiceField(label=_("协办部门"), required=False,
                                          widget=forms.SelectMultiple(attrs={"size": 4}))
    note = forms.CharField(label=_("派遣意见"), max_length=2000, required=False)

    def __init__(self, *args, choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = choices if choices is not None else unit_choices()
        self.fields["department"].choices = choices
        self.fields["assisting"].choices = choices

    @classmethod
    def for_object(cls, case, data=None, **kwargs):
        """The case's form: the units of the level where it waits, the routing's proposed department chosen."""
        proposed = case.proposed_department.code if case.proposed_department_id else ""
        return cls(data, initial={"department": proposed}, choices=dispatch_choices(case), **kwargs)


class MergeForm(forms.Form):
    into = forms.CharField(label=_("并入案件编号"), max_length=24)
    note = forms.CharField(label=_("备注"), max_length=2000, required=False)


class TaskResultForm(forms.Form):
    result = forms.CharField(label=_("协办结果"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class PhotoForm(forms.Form):
    photos = PhotosField(label=_("照片"), required=True,
                         widget=MultiFileInput(attrs={"accept": "image/jpeg,image/png,image/webp", "capture": "environment"}))


class ConsultationForm(forms.Form):
    """联办难点一起商: the meeting and up to three decisions (department, text, limit) in one form."""

    meeting_at = forms.DateTimeField(label=_("会商时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                     input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"])
    topic = forms.CharField(label=_("议题"), max_length=200)
    participants = forms.MultipleChoiceField(label=_("参会部门"), widget=forms.SelectMultiple(attrs={"size": 5}))
    minutes = forms.CharField(label=_("纪要"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    DECISIONS = 3

    def __init__(self, *args, choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = choices if choices is not None else unit_choices()
        self.fields["participants"].choices = choices
        for i in range(1, self.DECISIONS + 1):
            self.fields[f"d{i}_department"] = forms.ChoiceField(label=_("决定 %(n)s：部门") % {"n": i}, required=False,
                                                                choices=[("", "—"), *choices])
            self.fields[f"d{i}_text"] = forms.CharField(label=_("内容"), required=False, max_length=500)
            self.fields[f"d{i}_limit_hours"] = forms.FloatField(label=_("时限（工作小时）"), required=False, min_value=0.5)

    def decisions(self) -> list[dict]:
        d = self.cleaned_data
        out = []
        for i in range(1, self.DECISIONS + 1):
            if d.get(f"d{i}_department"):
                out.append({"department": d[f"d{i}_department"], "text": d.get(f"d{i}_text") or "",
                            "limit_hours": d.get(f"d{i}_limit_hours")})
        return out


# Dates of city records: the API's bounds (core.schemas), so the page refuses what the API refuses.
DAY_RANGE = [MinValueValidator(EARLIEST), MaxValueValidator(LATEST)]
DAY_INPUT = forms.DateInput(attrs={"type": "date", "min": EARLIEST.isoformat(), "max": LATEST.isoformat()})


class EvaluationForm(forms.Form):
    KINDS = [(kind, chosen.label) for kind, chosen in evaluation.EVALUATIONS.items()]
    LEVELS = [("district", _("区")), ("street", _("街道")), ("community", _("社区")), ("grid", _("网格"))]
    kind = forms.ChoiceField(label=_("评价对象"), choices=KINDS, required=False)
    from_ = forms.DateField(label=_("从"), required=False, widget=DAY_INPUT, validators=DAY_RANGE)
    to = forms.DateField(label=_("至"), required=False, widget=DAY_INPUT, validators=DAY_RANGE)
    level = forms.ChoiceField(label=_("区域层级"), choices=LEVELS, required=False)

    def __init__(self, data=None, *, today: date, kinds=None, **kwargs):
        """`kinds`: the evaluations this viewer may open (cases.selectors.evaluation_kinds), the first by default."""
        if data is not None:
            data = data.copy()
            if "from" in data:
                data["from_"] = data.get("from")
        super().__init__(data, **kwargs)
        self.today = today
        if kinds is not None:
            self.fields["kind"].choices = [(kind, label) for kind, label in self.KINDS if kind in kinds]
        self.default_kind = self.fields["kind"].choices[0][0] if self.fields["kind"].choices else "departments"

    def period(self) -> dict:
        d = self.cleaned_data if self.is_bound and self.is_valid() else {}
        end = d.get("to") or self.today
        start = d.get("from_") or end.replace(day=1)
        return {"kind": d.get("kind") or self.default_kind, "start": start, "end": end,
                "level": d.get("level") or "district"}
