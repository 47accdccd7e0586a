"""The supervision panel of the case page (督办: the case's orders, the actions on them, the form to issue one)."""

from django import template

from cityops.cases.supervision import LEVEL_LABELS

register = template.Library()


@register.filter
def level_name(code: str) -> str:
    """催办 / 督办 / 挂牌督办 in the page's language."""
    return str(LEVEL_LABELS.get(code, code or ""))


@register.simple_tag(takes_context=True)
def supervision_panel(context, case) -> str:
    from cityops.cases.supervision.views import render_panel

    return render_panel(context["request"], case)
