"""Every write of the dashboard: the early-warning run of the worker (raise, keep, subside, merge) and the duty
officer's notification. Acknowledge and close are the workflow's own actions (core.actions)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from cityops.core import roles
from cityops.core.errors import IllegalTransition
from cityops.core.notify import notify
from cityops.core.workflow import create_with_timeline, transition
from cityops.dashboard.early_warning import PARAMS, Finding, Params, detect
from cityops.dashboard.models import EarlyWarning
from cityops.dashboard.workflow import OPEN_STATES


def _region_name(code: str) -> str:
    from cityops.cases.models import Case
    from cityops.geo.models import Region

    name = Region.objects.filter(code=code).values_list("name", flat=True).first()
    if name:
        return name
    # A region not in the geography (yet): the name the cases carry.
    field = _LEVEL_BY_LENGTH.get(len(code), "community")
    return (Case.objects.filter(**{f"{field}_code": code}).exclude(**{f"{field}_name": ""})
            .values_list(f"{field}_name", flat=True).first() or code)


_LEVEL_BY_LENGTH = {6: "district", 9: "street", 12: "community"}


def _series_cases(*, category_id: int, region_code: str, since: datetime, until: datetime):
    from cityops.cases.models import Case

    field = f"{_LEVEL_BY_LENGTH.get(len(region_code), 'community')}_code"
    return Case.objects.filter(category_id=category_id, **{field: region_code}, created_at__gte=since,
                               created_at__lt=until)


def _recipients(warning: EarlyWarning) -> list:
    """The duty officers (值班长); the district command centre's dispatchers of the warning's district; the city's
    leaders when CITYOPS_EARLY_WARNING_NOTIFY_LEADERS is set."""
    User = get_user_model()
    groups = [roles.SHIFT_LEAD] + ([roles.LEADER] if getattr(settings, "CITYOPS_EARLY_WARNING_NOTIFY_LEADERS", False) else [])
    people = list(User.objects.filter(is_active=True, groups__name__in=groups).distinct())
    district = warning.region_code[:6]
    people += [u for u in User.objects.filter(is_active=True, groups__name=roles.DISTRICT_DISPATCHER).distinct()
               if any(district.startswith(code) or code.startswith(district) for code in u.region_codes or [])]
    return people


def early_warning_notify(warning_id: int) -> None:
    warning = EarlyWarning.objects.select_related("category").get(pk=warning_id)
    title = (f"【异常预警】{warning.region_name} {warning.category.name_zh}：{warning.window_minutes} 分钟内 "
             f"{warning.observed} 件（通常约 {warning.expected:.1f} 件）")
    body = (f"自 {timezone.localtime(warning.started_at):%H:%M} 起，{warning.region_name}的「{warning.category.name_zh}」"
            f"上报明显多于通常水平（异常分值 {warning.score:.1f}），请值班长研判。")
    notify(recipients=_recipients(warning), kind="early_warning", title=title, body=body, subject=warning,
           url=f"/dashboard/warnings/{warning.pk}/")


def _raise(finding: Finding, *, now: datetime) -> EarlyWarning | None:
    """Open the warning of a finding, with the cases of its window; None when one is open already (de-duplicated:
    by the constraint as well, should two workers race)."""
    series = finding.series
    started = now - timedelta(minutes=finding.window)
    window_cases = finding.cases if finding.cases is not None else list(_series_cases(
        category_id=series.category_id, region_code=series.region_code, since=started, until=now,
    ).values_list("pk", flat=True))
    warning = EarlyWarning(
        category_id=series.category_id, region_code=series.region_code, region_level=series.level,
        region_name=_region_name(series.region_code), started_at=started, detected_at=now, last_hot_at=now,
        window_minutes=finding.window, observed=finding.observed, expected=round(finding.expected, 3),
        score=round(finding.score, 2), peak_observed=finding.observed,
    )
    try:
        with transaction.atomic():
            create_with_timeline(warning, actor=None, action="raise", params={
                "category": series.category_id, "region": series.region_code, "window_minutes": finding.window,
                "observed": finding.observed, "expected": warning.expected, "score": warning.score,
                "cases": window_cases,
            })
            warning.cases.add(*window_cases)
    except IntegrityError:
        return None
    transaction.on_commit(lambda: early_warning_notify(warning.pk))
    return warning


def _close(warning: EarlyWarning, action: str, *, actor, now: datetime, note: str = "") -> EarlyWarning:
    def apply(locked: EarlyWarning):
        locked.closed_at = now
        return ["closed_at"]

    return transition(warning, action, actor, note=note, params={"cases": warning.cases.count()}, apply=apply)


def _close_by_system(warning: EarlyWarning, action: str, *, now: datetime, note: str = "") -> bool:
    """Subside or merge; False when a person closed the warning meanwhile (the run goes on)."""
    try:
        with transaction.atomic():
            _close(warning, action, actor=None, now=now, note=note)
    except IllegalTransition:
        return False
    return True


def early_warning_close(*, warning: EarlyWarning, actor, note: str = "") -> EarlyWarning:
    """The duty officer closes a warning (dealt with, or no real spike). The same spike is not warned of again
    within the hour (`_closed_while_high`); the worker raises a new warning should the counts be high after that."""
    return _close(warning, "close", actor=actor, now=timezone.now(), note=note)


def _closed_while_high(series, *, now: datetime, quiet: timedelta) -> bool:
    """A person closed this series' warning (or its district's) while its counts were still high, less than `quiet`
    ago: the same spike is not warned of again at once (it is, should it still be high after that)."""
    return EarlyWarning.objects.filter(category_id=series.category_id, state="closed", last_hot_at__gte=now - quiet,
                                       region_code__in={series.region_code, series.region_code[:6]}).exists()


@transaction.atomic
def early_warning_run(*, now: datetime | None = None, params: Params = PARAMS) -> dict[str, int]:
    """One run of the worker (every CITYOPS_EARLY_WARNING_INTERVAL seconds): raise a warning for each spiking
    series that has none open; keep the open ones that are still high (their new cases join them); close those
    quiet for `params.quiet_minutes` (subside). A street's or a site's (community's) warning is not raised while its
    district has one for the category, and a district's warning takes the open warnings of the category in its
    streets and around its sites in (merge)."""
    now = now or timezone.now()
    findings, warm = detect(now=now, params=params)
    done: Counter = Counter()
    quiet = timedelta(minutes=params.quiet_minutes)
    open_warnings = {(w.category_id, w.region_code): w for w in EarlyWarning.objects.filter(state__in=OPEN_STATES)}
    for key, warning in list(open_warnings.items()):
        if key in warm:
            new = _series_cases(category_id=key[0], region_code=key[1], since=warning.last_hot_at or warning.started_at,
                                until=now).values_list("pk", flat=True)
            warning.cases.add(*new)
            recent = _series_cases(category_id=key[0], region_code=key[1], since=now - timedelta(
                minutes=warning.window_minutes), until=now).count()
            # Bookkeeping of an open warning, not a step of it: no timeline entry (raise, acknowledge, close,
            # subside and merge are on the timeline, with the number of cases at that time).
            EarlyWarning.objects.filter(pk=warning.pk).update(
                last_hot_at=now, peak_observed=max(warning.peak_observed, recent))
            done["kept"] += 1
        elif (warning.last_hot_at or warning.detected_at) <= now - quiet:
            del open_warnings[key]
            done["subsided"] += _close_by_system(warning, "subside", now=now)
    for finding in sorted(findings, key=lambda f: (f.series.level != "district", -f.score)):
        series = finding.series
        district_key = (series.category_id, series.region_code[:6])
        if (series.category_id, series.region_code) in open_warnings:
            continue
        if series.level != "district" and district_key in open_warnings:
            continue
        if _closed_while_high(series, now=now, quiet=quiet):
            continue
        warning = _raise(finding, now=now)
        if warning is None:
            continue
        open_warnings[(series.category_id, series.region_code)] = warning
        done["raised"] += 1
        if series.level == "district":
            for key, street_warning in list(open_warnings.items()):
                if street_warning.region_level != "district" and (key[0], key[1][:6]) == district_key:
                    warning.cases.add(*street_warning.cases.all())
                    del open_warnings[key]
                    done["merged"] += _close_by_system(street_warning, "merge", now=now,
                                                       note=f"并入 {warning.region_name} 的预警 #{warning.pk}")
    return dict(done)

