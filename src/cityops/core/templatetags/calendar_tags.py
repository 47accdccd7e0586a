"""The home page's warning when the days ahead fall in a year whose holiday schedule is not announced
(core.calendar.schedule_gaps), for those who can act on it: the admin imports the notice, the leader has it done."""

from django import template

from cityops.core import calendar, roles

register = template.Library()

SCHEDULE_WATCHERS = frozenset({roles.LEADER, roles.ADMIN})


@register.inclusion_tag("core/_calendar_warning.html")
def calendar_warning(user):
    gaps = calendar.schedule_gaps() if user.is_authenticated and user.role_codes & SCHEDULE_WATCHERS else []
    return {"gaps": gaps, "years": ", ".join(str(gap.year) for gap in gaps)}
