"""The briefings' API, mounted at /api/v1/dashboard/briefings: the list (scoped, filtered by kind and region), one
briefing with its figures, and its files (pdf, xlsx)."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Router

from cityops.core.schemas import Id, Schema, page_size
from cityops.dashboard import briefings
from cityops.dashboard.briefing_views import attachment

router = Router(tags=["dashboard briefings"])


class BriefingOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    period: str
    period_start: date
    period_end: date
    region_code: str
    region_level: str
    region_name: str
    generated_at: datetime
    sent_at: datetime | None
    url: str
    pdf_url: str
    xlsx_url: str


class BriefingDetailOut(BriefingOut):
    figures: dict


def _out(b) -> dict:
    return {"id": b.pk, "kind": b.kind, "kind_label": b.get_kind_display(), "title": briefings.title_of(b),
            "period": briefings.period_label(b.kind, b.period_start), "period_start": b.period_start,
            "period_end": b.period_end, "region_code": b.region_code, "region_level": b.region_level,
            "region_name": b.region_name, "generated_at": b.generated_at, "sent_at": b.sent_at,
            "url": f"/dashboard/briefings/{b.pk}/", "pdf_url": f"/api/v1/dashboard/briefings/{b.pk}/pdf",
            "xlsx_url": f"/api/v1/dashboard/briefings/{b.pk}/xlsx"}


@router.get("", response=list[BriefingOut], summary="简报列表 / briefings")
def list_briefings(request, kind: str = "", region: str = "", limit: page_size(500) = 100):
    """Newest period first. `kind` daily | weekly | monthly; `region` a district's or street's code ("city": the
    city's). Scoped: a district's staff see their district's and its streets'."""
    qs = briefings.briefing_list(user=request.auth, kind=kind, region=region)
    return [_out(b) for b in qs[:limit]]


@router.get("/{briefing_id}", response=BriefingDetailOut, summary="简报 / one briefing with its figures")
def get_briefing(request, briefing_id: Id):
    b = briefings.briefing_get(user=request.auth, pk=briefing_id)
    return {**_out(b), "figures": b.figures}


@router.get("/{briefing_id}/{fmt}", summary="简报文件 / the briefing's PDF or xlsx")
def get_file(request, briefing_id: Id, fmt: str):
    briefings.clean_format(fmt)
    b = briefings.briefing_get(user=request.auth, pk=briefing_id)
    return attachment(*briefings.file_of(b, fmt))
