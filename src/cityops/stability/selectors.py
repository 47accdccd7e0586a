"""Every read of the stability assessment, scoped by the user once here for pages and API alike:
- city-wide roles (leaders, the operations centre, admin) read every decision;
- the staff of the proposing or the assessing unit read that unit's decisions;
- street/community staff and grid workers read the decisions of their regions (one of its regions contains
  theirs, or lies inside it);
- everyone else — residents, the public — reads the public ones (from the consultation on), with approved
  comments only.
Monitoring reads the city cases and disputes in the decision's area after its publication: inside its polygon
when it has one, else under one of its regions' codes."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cityops.core import roles
from cityops.core.scope import is_city_wide
from cityops.stability import workflow as flow
from cityops.stability.models import Comment, Decision, DecisionRegion


def _nesting(code: str) -> Q:
    """Regions (DecisionRegion rows) inside the region `code`, or containing it."""
    return Q(code__startswith=code) | Q(code__in=[code[:n] for n in (6, 9, 12) if n < len(code)])


def with_region_nesting(code: str) -> Q:
    """Decisions one of whose regions lies inside the region `code` or contains it."""
    return Q(Exists(DecisionRegion.objects.filter(_nesting(code), decision=OuterRef("pk"))))


def user_area(user) -> list[str] | None:
    """The regions a user may name as a decision's (None: the whole city): city-wide roles and administrators
    anywhere; street/community staff, grid workers and district command centres their own regions; the staff of a
    unit the regions of their units (a unit without a region works for the whole city)."""
    if is_city_wide(user) or getattr(user, "is_superuser", False):
        return None
    if not user.is_authenticated:
        return []
    codes: set[str] = set()
    if user.role_codes & roles.REGION_BOUND_ROLES:
        codes.update(code for code in user.region_codes or [] if isinstance(code, str) and code)
    if user.role_codes & flow.UNIT_STAFF_ROLES and user.org_unit_ids:
        from cityops.accounts.models import OrgUnit

        unit_codes = list(OrgUnit.objects.filter(pk__in=list(user.org_unit_ids)).values_list("region_code", flat=True))
        if any(not code for code in unit_codes):
            return None
        codes.update(unit_codes)
    return sorted(codes)


def _decisions() -> QuerySet[Decision]:
    return Decision.objects.select_related("proposing_unit", "assessing_unit").prefetch_related("regions")


def public_decisions() -> QuerySet[Decision]:
    """What anyone may read, signed in or not: decisions from their public consultation on."""
    return _decisions().filter(state__in=flow.PUBLIC_STATES)


def decision_list(*, user) -> QuerySet[Decision]:
    if is_city_wide(user):
        return _decisions()
    q = Q(state__in=flow.PUBLIC_STATES)
    if user.is_authenticated:
        codes = user.role_codes
        if codes & flow.UNIT_STAFF_ROLES and user.org_unit_ids:
            units = list(user.org_unit_ids)
            q |= Q(proposing_unit_id__in=units) | Q(assessing_unit_id__in=units)
        if codes & roles.REGION_BOUND_ROLES:
            nesting = Q(pk__in=[])
            for code in user.region_codes or []:
                nesting |= _nesting(code)
            q |= Q(Exists(DecisionRegion.objects.filter(nesting, decision=OuterRef("pk"))))
    return _decisions().filter(q)


def decision_get(*, user, pk: int) -> Decision | None:
    return decision_list(user=user).filter(pk=pk).first()


def is_staff_reader(decision: Decision, user) -> bool:
    """Who reads the decision's whole file (every comment, pending or rejected; the register's owners; the
    visits): city-wide roles and the staff of the two units."""
    if is_city_wide(user):
        return True
    return bool(user.is_authenticated and user.role_codes & flow.UNIT_STAFF_ROLES
                and {decision.proposing_unit_id, decision.assessing_unit_id} & user.org_unit_ids)


def comment_list(*, decision: Decision, user, status: str = "") -> QuerySet[Comment]:
    """The comments the user may read: staff of the file every comment (or those of `status`); anyone else the
    approved ones."""
    qs = decision.comments.select_related("author")
    if not is_staff_reader(decision, user):
        return qs.filter(status=Comment.Status.APPROVED)
    return qs.filter(status=status) if status else qs


def my_comments(*, decision: Decision, user) -> QuerySet[Comment]:
    if not user.is_authenticated:
        return Comment.objects.none()
    return decision.comments.filter(author=user)


def stance_counts(*, decision: Decision) -> dict[str, int]:
    """The approved comments counted by stance (支持 / 反对 / 中立), and their total."""
    counts = Counter(decision.comments.filter(status=Comment.Status.APPROVED).values_list("stance", flat=True))
    out = {stance: counts.get(stance, 0) for stance in Comment.Stance.values}
    out["total"] = sum(counts.values())
    return out


def pending_comment_count(*, decision: Decision) -> int:
    return decision.comments.filter(status=Comment.Status.PENDING).count()


# --- monitoring --------------------------------------------------------------------------------------------
def area_shape(decision: Decision):
    """The decision's own polygon as a prepared shapely geometry (fast point-in-polygon tests), or None."""
    if not decision.area:
        return None
    import shapely

    geom = shapely.from_geojson(json.dumps(decision.area))
    shapely.prepare(geom)
    return geom


def area_geojson(decision: Decision) -> dict | None:
    """What a map draws as the decision's area: its own polygon, else its regions' outlines (simplified, merged)."""
    if decision.area:
        return decision.area
    import shapely

    from cityops.geo.models import Region

    shapes = [shapely.from_geojson(json.dumps(geometry)) for geometry in Region.objects.filter(
        code__in=decision.region_codes).values_list("geometry", flat=True) if geometry]
    if not shapes:
        return None
    outline = shapely.simplify(shapely.union_all(shapes), 0.0002, preserve_topology=True)
    return json.loads(shapely.to_geojson(outline))


def _in_area(model, decision: Decision) -> QuerySet:
    """Rows of `model` (cases, disputes) created after publication inside the decision's area: with a polygon,
    those whose lon/lat fall inside it — the polygon's bounding box in SQL, then shapely's exact test on those
    candidates only; without one, those whose region code lies under one of the decision's regions."""
    qs = model.objects.filter(created_at__gte=decision.published_at)
    geom = area_shape(decision)
    if geom is None:
        under = Q(pk__in=[])
        for code in decision.region_codes:
            under |= Q(region_code__startswith=code)
        return qs.filter(under)
    import shapely

    west, south, east, north = geom.bounds
    rows = list(qs.filter(lon__gte=west, lon__lte=east, lat__gte=south, lat__lte=north)
                .values_list("pk", "lon", "lat"))
    if not rows:
        return qs.none()
    pks, lons, lats = zip(*rows, strict=True)
    inside = shapely.intersects_xy(geom, lons, lats)  # the boundary counts as inside
    return qs.filter(pk__in=[pk for pk, hit in zip(pks, inside, strict=True) if hit])


def linked_cases(*, decision: Decision) -> QuerySet:
    """City cases (城市事件 / 12345) reported in the decision's area after it was published."""
    from cityops.cases.models import Case

    if decision.published_at is None:
        return Case.objects.none()
    return _in_area(Case, decision).select_related("category").order_by("-created_at")


def dispute_model():
    """The disputes app's Dispute, when that app is installed (it is built beside this one)."""
    if not apps.is_installed("cityops.disputes"):
        return None
    try:
        return apps.get_model("disputes", "Dispute")
    except LookupError:
        return None


def linked_disputes(*, decision: Decision) -> QuerySet | None:
    """Disputes registered in the decision's area after it was published; None without the disputes app."""
    model = dispute_model()
    if model is None:
        return None
    if decision.published_at is None:
        return model.objects.none()
    return _in_area(model, decision).order_by("-created_at")


MAP_POINTS = 500  # the newest linked cases and disputes drawn on the decision page's map (each kind)


def map_points(*, decision: Decision) -> list[dict]:
    """The linked cases and disputes (those with a position) as dots for the staff's map: where, which kind, and
    the line its tooltip shows (code, category or kind, state) — no person."""
    points = [{"lon": c.lon, "lat": c.lat, "kind": "case", "url": f"/cases/{c.code}/",
               "label": f"{c.code} · {c.category.name} · {c.state_label()}"}
              for c in linked_cases(decision=decision)[:MAP_POINTS]]
    disputes = linked_disputes(decision=decision)
    if disputes is not None:
        points += [{"lon": x.lon, "lat": x.lat, "kind": "dispute", "url": "",
                    "label": f"{x.code} · {x.get_kind_display()} · {x.state_label()}"}
                   for x in disputes.filter(lon__isnull=False, lat__isnull=False)[:MAP_POINTS]]
    return points


def weekly_counts(*, decision: Decision, weeks: int = 12) -> list[dict]:
    """Cases and disputes in the area per week since publication (the latest `weeks` weeks), Monday first."""
    if decision.published_at is None:
        return []
    today = timezone.localdate()
    first = timezone.localtime(decision.published_at).date()
    first -= timedelta(days=first.weekday())
    start = max(first, today - timedelta(days=today.weekday(), weeks=weeks - 1))
    rows = {start + timedelta(weeks=n): {"week": start + timedelta(weeks=n), "cases": 0, "disputes": 0}
            for n in range((today - start).days // 7 + 1)}
    sources = [("cases", linked_cases(decision=decision))]
    disputes = linked_disputes(decision=decision)
    if disputes is not None:
        sources.append(("disputes", disputes))
    for key, qs in sources:
        for created in qs.values_list("created_at", flat=True):
            day = timezone.localtime(created).date()
            week = day - timedelta(days=day.weekday())
            if week in rows:
                rows[week][key] += 1
    return list(rows.values())


def region_names(codes) -> dict[str, str]:
    from cityops.geo.models import Region

    return dict(Region.objects.filter(code__in=set(codes)).values_list("code", "name"))


AREA_CHOICES = 800


def area_choices(user) -> list[tuple[str, str]]:
    """The districts, streets and communities the user may name as a decision's regions (user_area), by name and
    indented by level; for the whole city its districts and streets (a community through the API)."""
    from cityops.geo.models import Region

    area = user_area(user)
    qs = Region.objects.filter(level__in=("district", "street", "community")).only("code", "name", "level")
    if area is None:
        qs = qs.exclude(level="community")
    else:
        inside = Q(pk__in=[])
        for code in area:
            inside |= Q(code__startswith=code)
        qs = qs.filter(inside)
    indent = {"district": "", "street": "\u3000", "community": "\u3000\u3000"}
    return [(r.code, f"{indent[r.level]}{r.display_name}") for r in qs.order_by("code")[:AREA_CHOICES]]


def regions_shown(decisions) -> dict[int, str]:
    """Each decision's regions by name (顿号-separated, the main one first), for lists and pages (the regions are
    prefetched by decision_list)."""
    decisions = list(decisions)
    codes = {d.pk: d.region_codes or [d.region_code] for d in decisions}
    names = region_names(code for listed in codes.values() for code in listed)
    return {pk: "、".join(names.get(code, code) for code in listed) for pk, listed in codes.items()}

