"""The supervision panel of the case page (督办: the case's orders, the actions on them, the form to issue one)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def supervision_panel(context, case) -> str:
    from cityops.cases.supervision.views import render_panel

    return render_panel(context["request"], case)
