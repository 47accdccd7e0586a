"""Every write of the resident portal. Reports become cases through cases.services (source "portal");
photos go through cases' own validation (content sniffing, metadata stripped); ratings feed the case's
follow-up (回访). Nothing here writes a case's state."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cityops.cases import conf as case_conf
from cityops.cases.models import Case
from cityops.cases.services import case_create, case_follow_up, case_merge, case_photo_add, sniff_image
from cityops.core.errors import CityopsError, Forbidden, InvalidInput, RateLimited
from cityops.core.ratelimit import failure_hit, locked_for, window_hit
from cityops.core.timeline import timeline_append
from cityops.portal.models import PortalReport, hash_key


def rate_check(*, client_id: str) -> None:
    """At most CITYOPS_PORTAL_REPORTS_PER_HOUR submissions per client (address + session) per hour."""
    limit = int(getattr(settings, "CITYOPS_PORTAL_REPORTS_PER_HOUR", 10))
    if not limit:
        return
    used, _retry_after = window_hit(key=f"portal:{client_id}", window_s=3600)
    if used > limit:
        raise RateLimited(
            f"提交过于频繁：每小时最多 {limit} 次，请稍后再试",
            f"Too many reports: at most {limit} an hour; please try again later",
        )


def check_photos(files) -> list[tuple[bytes, str]]:
    """Validate before anything is written, so a bad photo never leaves a half-made report."""
    max_photos = int(case_conf.get("MAX_PHOTOS"))
    if len(files) > max_photos:
        raise InvalidInput(f"最多上传 {max_photos} 张照片", f"At most {max_photos} photos", code="too_many_photos")
    limit = int(getattr(settings, "CITYOPS_MAX_PHOTO_BYTES", 5 * 1024 * 1024))
    out = []
    for f in files:
        if f.size > limit:
            raise InvalidInput(
                f"照片「{f.name}」超过 {limit // 1024 // 1024} MB", f"Photo '{f.name}' exceeds {limit // 1024 // 1024} MB",
                code="photo_too_large",
            )
        data = f.read()
        if sniff_image(data) is None:
            raise InvalidInput(
                f"「{f.name}」不是 JPEG、PNG 或 WebP 图片", f"'{f.name}' is not a JPEG, PNG or WebP image",
                code="invalid_image_type",
            )
        out.append((data, f.name))
    return out


@dataclass
class Submitted:
    case: Case
    key: str
    merged: bool = False


def report_submit(
    *,
    actor,
    category: str,
    description: str,
    lon=None,
    lat=None,
    address: str = "",
    phone: str = "",
    anonymous: bool = False,
    photos=(),
    supports: Case | None = None,
) -> Submitted:
    """A resident's report (公众上报). With `supports`, the resident said "it is this one": the report is
    still recorded (it counts as a supervision report of the kept case) and is merged into it."""
    actor = actor if actor is not None and actor.is_authenticated else None
    images = check_photos(list(photos))
    with transaction.atomic():
        intake = case_create(
            actor=actor, category=category, description=description, source=Case.Source.PORTAL,
            lon=lon, lat=lat, address=address, reporter_phone=phone, anonymous=anonymous,
        )
        case = intake.case
        for data, name in images:
            case_photo_add(case=case, actor=actor, data=data, filename=name)
        key = PortalReport.new_key()
        PortalReport.objects.create(case=case, key_hash=hash_key(key), supports=supports)
    merged = False
    if supports is not None:
        merged = _support(case=case, kept=supports)
    return Submitted(case, key, merged)


def _support(*, case: Case, kept: Case) -> bool:
    """Merge a supporting report into the case the resident chose (RULES.md §1 Duplicates: merged reports
    count as supervision reports of the kept case). The case workflow lets only an operator merge; until
    it accepts a resident's own confirmation, the report waits, marked, for the operator's one click."""
    try:
        case_merge(case=case, actor=None, into=kept, note="市民确认为同一问题（门户附议）")
        return True
    except CityopsError:
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=case.pk)  # the entry records its state and version
            timeline_append(
                subject=case, action="support_request", actor=None, actor_name="portal",
                from_state=case.state, to_state=case.state,
                note=f"市民确认与 {kept.code} 为同一问题，请合并", params={"into": kept.code},
            )
        return False


def _track_limits() -> tuple[int, int]:
    """(wrong proofs allowed, cool-off seconds): by default those of the login lockout (django-axes)."""
    limit = int(getattr(settings, "CITYOPS_PORTAL_TRACK_FAILURE_LIMIT", settings.AXES_FAILURE_LIMIT))
    cooloff = int(getattr(settings, "CITYOPS_PORTAL_TRACK_COOLOFF_S", float(settings.AXES_COOLOFF_TIME) * 3600))
    return limit, cooloff


def _locked_out(seconds: int) -> RateLimited:
    minutes = max(1, math.ceil(seconds / 60))
    return RateLimited(
        f"查询码或手机号错误次数过多，请 {minutes} 分钟后再试",
        f"Too many wrong tracking keys or phone numbers from your address; please try again in {minutes} minutes",
        code="too_many_attempts", details={"retry_after": seconds},
    )


def report_for(*, case: Case, phone: str = "", key: str = "", client_id: str) -> PortalReport | None:
    """The reporter's proof: the tracking key given at submission, or the phone number they left. Guessing is
    throttled like logins: after CITYOPS_PORTAL_TRACK_FAILURE_LIMIT wrong proofs from one client (address) within
    the cool-off, every proof from it is refused (429) for CITYOPS_PORTAL_TRACK_COOLOFF_S seconds."""
    if not (key or phone):
        return None
    limit, cooloff = _track_limits()
    throttle = f"portal-track:{client_id}"
    left = locked_for(key=throttle)
    if left:
        raise _locked_out(left)
    link = PortalReport.objects.filter(case=case).first()
    if key and link is not None and link.matches(key):
        return link
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if digits and case.reporter_phone and digits == "".join(ch for ch in case.reporter_phone if ch.isdigit()):
        return link or PortalReport(case=case)
    if limit:
        failure_hit(key=throttle, limit=limit, cooloff_s=cooloff)
    return None


def rating_submit(
    *, case: Case, phone: str = "", key: str = "", client_id: str, satisfied: bool, comment: str = ""
) -> Case:
    """回访 by the resident after closing: satisfied → the case is archived; not satisfied → it goes back
    for rework (重办) when the workflow allows the resident's word to reopen it, otherwise the rating waits
    on the timeline for the follow-up operator."""
    link = report_for(case=case, phone=phone, key=key, client_id=client_id)
    if link is None:
        raise Forbidden("只有反映人可以评价（请输入提交时的查询码或手机号）",
                        "Only the reporter may rate: give the tracking key or the phone number you left",
                        code="not_reporter")
    if case.state != "closed":
        raise InvalidInput("问题办结后才能评价", "You can rate once the case is closed", code="not_closed")
    comment = (comment or "").strip()[:1000]
    if not satisfied and not comment:
        raise InvalidInput("请说明不满意的原因", "Please say why you are not satisfied", code="reason_required")
    if link.pk:
        link.satisfied, link.rating_comment, link.rated_at = satisfied, comment, timezone.now()
        link.save(update_fields=["satisfied", "rating_comment", "rated_at"])
    note = comment or ("市民满意" if satisfied else "市民不满意")
    try:
        return case_follow_up(case=case, actor=None, satisfied=satisfied, note=f"[门户评价] {note}")
    except CityopsError:
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=case.pk)  # the entry records its state and version
            timeline_append(
                subject=case, action="resident_rating", actor=None, actor_name="portal",
                from_state=case.state, to_state=case.state, note=note, params={"satisfied": satisfied},
            )
        return Case.objects.get(pk=case.pk)
