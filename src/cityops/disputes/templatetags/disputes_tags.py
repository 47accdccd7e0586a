"""The disputes of a city case on the case page (the hotline link, both ways): `{% case_disputes case %}`."""

from django import template

register = template.Library()


@register.inclusion_tag("disputes/_case_disputes.html", takes_context=True)
def case_disputes(context, case):
    from cityops.disputes import selectors, services

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or case is None:
        return {"rows": [], "may_link": False}
    rows = list(selectors.case_disputes(case=case, user=user))
    open_states = set(selectors.OPEN_STATES)
    may_link = bool(user.role_codes & services.CASE_LINK_ROLES) and not any(d.state in open_states for d in rows)
    return {"rows": rows, "may_link": may_link, "case": case}


@register.filter
def unit(org_unit) -> str:
    """An org unit (centre, committee) by its name in the page's language: its English name where it has one."""
    from django.utils.translation import get_language

    if org_unit is None:
        return ""
    if (get_language() or "").startswith("en") and getattr(org_unit, "name_en", ""):
        return org_unit.name_en
    return org_unit.name


@register.filter
def place(code: str) -> str:
    """A region code as the names of its district, street, community and grid (from the in-memory index), e.g.
    汉阳区 · 翠微街道 · 琴台社区; the code itself only when the index does not know it."""
    from cityops.geo.selectors import region_chain

    if not code:
        return ""
    chain = region_chain(code)
    names = [chain[level]["name"] for level in ("district", "street", "community", "grid") if level in chain]
    return " · ".join(names) or code
