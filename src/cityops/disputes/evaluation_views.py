"""The evaluation page of dispute resolution (/disputes/evaluation/): the rows evaluation.evaluate lets the user
read, for a period chosen on the page (default: the last 30 days), as the tables of evaluation_export — and the same
tables as CSV or Excel (/disputes/evaluation/export.csv, export.xlsx)."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityops.cases.evaluation_export import export_response
from cityops.core import roles
from cityops.core.errors import CityopsError, Forbidden
from cityops.disputes import evaluation
from cityops.disputes.evaluation_export import evaluation_tables

DEFAULT_DAYS = 30


def _day(text: str | None, default: date) -> date | None:
    """A date typed in the form; None when it is not one (the page says so)."""
    if not text:
        return default
    try:
        return date.fromisoformat(text[:10]) if len(text) <= 10 and "\x00" not in text else None
    except ValueError:
        return None


def _evaluation(request):
    """The period, the tables the user may read and what was wrong with the period ("" when nothing): a user who
    may read no evaluation gets the 403 page."""
    today = timezone.localdate()
    start = _day(request.GET.get("from"), today - timedelta(days=DEFAULT_DAYS - 1))
    end = _day(request.GET.get("to"), today)
    problem, rows = "", {}
    if start is None or end is None:
        problem = _("日期格式应为 YYYY-MM-DD")
        start, end = start or today - timedelta(days=DEFAULT_DAYS - 1), end or today
    else:
        try:
            rows = evaluation.evaluate(user=request.user, start=start, end=end)
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc
        except CityopsError as exc:
            problem = exc.message_en if (request.LANGUAGE_CODE or "").startswith("en") else exc.message
    # Campaigns are the centre's and the city's work, not a committee's (evaluation.evaluate).
    campaigns = request.user.has_role(roles.LEADER, roles.ADMIN, roles.CENTRE_STAFF)
    return start, end, evaluation_tables(rows, start=start, end=end, campaigns=campaigns), problem


@login_required
def evaluation_page(request):
    start, end, tables, problem = _evaluation(request)
    # Each cell with its column's heading: the label of a row shown as a card at phone width.
    labelled = [(key, table, [list(zip(table.headers, row, strict=True)) for row in table.rows])
                for key, table in tables]
    return render(request, "disputes/evaluation_page.html", {
        "start": start, "end": end, "problem": problem, "tables": labelled,
        "query": urlencode({"from": start.isoformat(), "to": end.isoformat()}),
    })


@login_required
def evaluation_export(request, fmt: str):
    """The page's tables as CSV (one after another) or Excel (one sheet each)."""
    if fmt not in ("csv", "xlsx"):
        raise Http404(fmt)
    start, end, tables, problem = _evaluation(request)
    if problem:
        messages.error(request, problem)
        return redirect("/disputes/evaluation/")
    return export_response([table for _key, table in tables], fmt,
                           filename=f"dispute-evaluation-{start}-{end}")
