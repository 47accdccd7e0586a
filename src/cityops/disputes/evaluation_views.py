"""The evaluation page of dispute resolution (/disputes/evaluation/): the rows evaluation.evaluate lets the user
read, for a period chosen on the page (default: the last 30 days)."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityops.core import roles
from cityops.core.errors import CityopsError, Forbidden
from cityops.disputes import evaluation

DEFAULT_DAYS = 30
RATES = ("success_rate", "on_time_rate", "confirmation_rate", "performance_rate", "local_rate", "coverage")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _shown(rows: dict) -> dict:
    """The rates as percentages for the page (the API keeps the shares)."""
    for listed in rows.values():
        for row in listed:
            row.update({f"{key}_pct": _percent(row[key]) for key in RATES if key in row})
    return rows


def _day(text: str | None, default: date) -> date | None:
    """A date typed in the form; None when it is not one (the page says so)."""
    if not text:
        return default
    try:
        return date.fromisoformat(text[:10]) if len(text) <= 10 and "\x00" not in text else None
    except ValueError:
        return None


@login_required
def evaluation_page(request):
    today = timezone.localdate()
    start = _day(request.GET.get("from"), today - timedelta(days=DEFAULT_DAYS - 1))
    end = _day(request.GET.get("to"), today)
    problem, rows = "", {"centres": [], "committees": [], "mediators": [], "campaigns": []}
    if start is None or end is None:
        problem = _("日期格式应为 YYYY-MM-DD")
        start, end = start or today - timedelta(days=DEFAULT_DAYS - 1), end or today
    else:
        try:
            rows = _shown(evaluation.evaluate(user=request.user, start=start, end=end))
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc
        except CityopsError as exc:
            problem = exc.message_en if (request.LANGUAGE_CODE or "").startswith("en") else exc.message
    return render(request, "disputes/evaluation_page.html", {
        "start": start, "end": end, "problem": problem, **rows,
        # Campaigns are the centre's and the city's work, not a committee's (evaluation.evaluate).
        "show_campaigns": request.user.has_role(roles.LEADER, roles.ADMIN, roles.CENTRE_STAFF),
    })
