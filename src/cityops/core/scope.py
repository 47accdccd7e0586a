"""Scope: which records a user may read. Every selector calls `scope_filter` once (DESIGN.md "Roles and scope").

Region codes are hierarchical (district 6 digits ⊂ street 9 ⊂ community 12 ⊂ grid 14), so "inside my
regions" is a prefix test on a stored region code.
"""

from django.db.models import Q, QuerySet

from cityops.core import roles


def is_city_wide(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.role_codes & roles.CITY_WIDE_ROLES))


def scope_q(
    user,
    *,
    region_field: str | None = None,
    org_field: str | None = None,
    owner_field: str | None = None,
    extra: Q | None = None,
) -> Q | None:
    """A Q for what `user` may see, or None when the user sees everything.

    - city-wide roles: everything;
    - org-bound roles (department, committee): rows whose `org_field` is one of their org units;
    - region-bound roles (grid worker, street/community staff): rows whose `region_field` code starts with one
      of their region codes;
    - everyone: rows they own through `owner_field` (a resident's own reports);
    - `extra`: a model-specific addition (e.g. a case where the user's department assists).
    Nothing matches when none of these applies: an unknown role sees nothing.
    """
    if is_city_wide(user):
        return None
    q = Q(pk__in=[])
    if not user.is_authenticated:
        return q
    codes = user.role_codes
    if org_field and codes & roles.ORG_BOUND_ROLES and user.org_unit_ids:
        q |= Q(**{f"{org_field}__in": list(user.org_unit_ids)})
    if region_field and codes & roles.REGION_BOUND_ROLES:
        for code in user.region_codes or []:
            q |= Q(**{f"{region_field}__startswith": code})
    if owner_field:
        q |= Q(**{owner_field: user.pk})
    if extra is not None:
        q |= extra
    return q


def scope_filter(queryset: QuerySet, user, **fields) -> QuerySet:
    q = scope_q(user, **fields)
    return queryset if q is None else queryset.filter(q)
