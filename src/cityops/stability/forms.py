"""The page forms the action schemas cannot make themselves (choices, dates), and the forms of the register, the
comments, visits and hearings. Each only shapes input: the services check and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cityops.stability import workflow as flow
from cityops.stability.models import Comment, Risk

DATE = forms.DateInput(attrs={"type": "date"})


class ConsultationForm(forms.Form):
    ends_on = forms.DateField(label=_("征求意见截止日期"), widget=DATE,
                              help_text=_("公开征求意见期不少于 30 日"))
    note = forms.CharField(label=_("备注"), required=False, max_length=4000)


class ScopeForm(forms.Form):
    scope = forms.CharField(label=_("评估范围"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                            help_text=_("涉及的群众和单位、评估的事项与重点"))


class PostEvaluationForm(forms.Form):
    summary = forms.CharField(label=_("后评估结论"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class AssessForm(forms.Form):
    level = forms.ChoiceField(label=_("风险等级"), choices=list(flow.LEVELS.items()))
    summary = forms.CharField(label=_("评估结论"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    @classmethod
    def for_object(cls, decision, data=None, **kw):
        form = cls(data, initial={"level": decision.suggested_level()}, **kw)
        return form


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(label=_("决策结果"), choices=list(flow.OUTCOMES.items()))
    note = forms.CharField(label=_("决策说明"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    @classmethod
    def for_object(cls, decision, data=None, **kw):
        """Only the outcomes the level leaves open are offered (the guard refuses the others anyway)."""
        form = cls(data, **kw)
        allowed = flow.ALLOWED_OUTCOMES.get(decision.level, ())
        form.fields["outcome"].choices = [(k, v) for k, v in flow.OUTCOMES.items() if k in allowed]
        return form


class DecisionForm(forms.Form):
    title = forms.CharField(label=_("决策事项"), max_length=200)
    description = forms.CharField(label=_("决策内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    proposing_unit = forms.ChoiceField(label=_("决策提出单位"))
    assessing_unit = forms.ChoiceField(label=_("评估主体"))
    region_codes = forms.MultipleChoiceField(label=_("影响区域"), widget=forms.SelectMultiple(attrs={"size": 8}),
                                             help_text=_("可多选，第一个为主要区域；只能选择您负责范围内的区、街道或社区"))
    area = forms.CharField(label=_("影响范围（GeoJSON，可选）"), required=False, max_length=200_000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, units=(), my_units=(), regions=(), **kw):
        super().__init__(*args, **kw)
        self.fields["proposing_unit"].choices = [(u.code, u.name) for u in my_units]
        self.fields["assessing_unit"].choices = [(u.code, u.name) for u in units]
        self.fields["region_codes"].choices = list(regions)


class RiskForm(forms.Form):
    dimension = forms.ChoiceField(label=_("风险维度"), choices=Risk.Dimension.choices)
    description = forms.CharField(label=_("风险描述"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    likelihood = forms.IntegerField(label=_("可能性（1–5）"), min_value=1, max_value=5)
    impact = forms.IntegerField(label=_("影响程度（1–5）"), min_value=1, max_value=5)
    mitigation = forms.CharField(label=_("防范化解措施"), required=False, max_length=4000,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    owner_unit = forms.ChoiceField(label=_("责任单位"), required=False)

    def __init__(self, *args, **kw):
        from cityops.accounts.models import OrgUnit

        super().__init__(*args, **kw)
        units = OrgUnit.objects.filter(active=True).exclude(kind="company").order_by("kind", "code")
        self.fields["owner_unit"].choices = [("", "—"), *((u.code, u.name) for u in units)]


class RiskUpdateForm(forms.Form):
    mitigation = forms.CharField(label=_("防范化解措施"), required=False, max_length=4000,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    status = forms.ChoiceField(label=_("状态"), choices=Risk.Status.choices)


class CommentForm(forms.Form):
    stance = forms.ChoiceField(label=_("您的态度"), choices=Comment.Stance.choices, widget=forms.RadioSelect)
    text = forms.CharField(label=_("意见内容"), min_length=5, max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))


class ModerateForm(forms.Form):
    approve = forms.TypedChoiceField(choices=[("1", _("公开")), ("0", _("不予公开"))], coerce=lambda v: v == "1")
    note = forms.CharField(label=_("审核说明"), required=False, max_length=300)


class VisitForm(forms.Form):
    visited_on = forms.DateField(label=_("走访日期"), widget=DATE)
    place = forms.CharField(label=_("走访对象 / 地点"), max_length=200)
    people_met = forms.IntegerField(label=_("走访人数"), min_value=1, max_value=100_000)
    findings = forms.CharField(label=_("走访情况"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class HearingForm(forms.Form):
    held_on = forms.DateField(label=_("听证日期"), widget=DATE)
    place = forms.CharField(label=_("听证地点"), max_length=200)
    participants = forms.IntegerField(label=_("参加人数"), min_value=1, max_value=100_000)
    minutes = forms.CharField(label=_("听证笔录"), max_length=20000, widget=forms.Textarea(attrs={"rows": 4}))
