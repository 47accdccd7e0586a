"""Metric names and units (the metric catalogue, iot.catalog) and severity badges for the IoT pages."""

from django import template
from django.utils.html import format_html

from cityops.iot import catalog

register = template.Library()


@register.filter
def metric_name(code: str) -> str:
    return catalog.metric_name(code)


@register.filter
def metric_unit(code: str, declared: str = "") -> str:
    return catalog.metric_unit(code, declared or "")


@register.filter
def severity_badge(alarm_or_rule) -> str:
    return format_html('<span class="sev sev-{}">{}</span>', alarm_or_rule.severity, alarm_or_rule.get_severity_display())


@register.filter
def reading_value(value) -> str:
    """A measured value as people write it: at most three decimals, no trailing zeros (0.3, 3.5, 12)."""
    if value is None or value == "":
        return "—"
    try:
        return f"{round(float(value), 3):g}"
    except (TypeError, ValueError):
        return str(value)
