"""The form of issuing a supervision order on the case page: the target (the case or one of its open sub-tasks),
the level, the response deadline and the reason. The service checks every value; the form only collects them."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cityops.cases.supervision import LEVEL_LABELS, LEVELS

CASE_TARGET = "case"


def task_target(task_id: int) -> str:
    return f"task-{task_id}"


class IssueForm(forms.Form):
    target = forms.ChoiceField(label=_("督办对象"))
    level = forms.ChoiceField(label=_("督办级别"), choices=[(code, LEVEL_LABELS[code]) for code in LEVELS])
    hours = forms.FloatField(label=_("回复时限（工作小时）"), initial=8)
    reason = forms.CharField(label=_("督办事由"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, data=None, *, targets: list[tuple[str, str]], **kwargs):
        kwargs.setdefault("auto_id", "issue-%s")
        super().__init__(data, **kwargs)
        self.fields["target"].choices = targets
