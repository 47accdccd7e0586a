"""Replay of a day (issue 15): the day's events of cases and alarms from the timeline, in the order they happened,
scoped like the live feed and in the same shape, compact (one array per event), a page at a time. replay.js
plays them onto the map through the same DOM events as the live feed. Mounted at /api/v1/dashboard/replay/."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated

from django.utils import timezone
from django.utils.translation import get_language
from ninja import Query, Router
from pydantic import Field

from cityops.core.errors import Forbidden
from cityops.core.models import TimelineEntry
from cityops.core.schemas import MAX_ID, Day, Schema, page_size
from cityops.dashboard import live

router = Router(tags=["dashboard"])

FIELDS = ("id", "type", "kind", "subject_id", "code", "action", "state", "state_label", "label", "lon", "lat",
          "region_code", "url", "at")
MAX_PAGE = 5000


class ReplayQuery(Schema):
    day: Day
    after: Annotated[int, Field(ge=0, le=MAX_ID)] = 0
    limit: page_size(MAX_PAGE) = 2000


class ReplayOut(Schema):
    day: str
    start: datetime
    end: datetime
    fields: list[str]
    events: list[list]
    next_after: int | None


def day_events(*, user, day, after: int = 0, limit: int = 2000) -> dict:
    """One page of the day's events the user may see: the timeline entries of cases and alarms whose time falls on
    `day` (the city's local day), after entry `after`, at most `limit` entries read. `next_after` is the cursor of
    the next page (None: the day is complete); a page may hold fewer events than entries read, as the entries
    outside the user's scope are left out."""
    allowed = live.scope_test(user)
    if allowed is None:
        raise Forbidden("您的角色没有回放", "Your role has no replay", code="replay_forbidden")
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    entries = list(
        TimelineEntry.objects.filter(at__gte=start, at__lt=end, subject_type__in=live.KINDS, id__gt=max(after, 0))
        .order_by("id").values_list(*live.ENTRY_FIELDS)[:limit]
    )
    english = (get_language() or "").startswith("en")
    shown = [live.public(e, english) for e in live.events_for(entries) if allowed(e)]
    shown.sort(key=lambda e: (e["at"], int(e["id"])))
    return {
        "day": day.isoformat(), "start": start, "end": end, "fields": list(FIELDS),
        "events": [[e.get(f) for f in FIELDS] for e in shown],
        "next_after": entries[-1][0] if len(entries) == limit else None,
    }


@router.get("/", response=ReplayOut, summary="回放某日事件 / a day's events for replay")
def replay(request, query: Query[ReplayQuery]):
    return day_events(user=request.auth, day=query.day, after=query.after, limit=query.limit)
