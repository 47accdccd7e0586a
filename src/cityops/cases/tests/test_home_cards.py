"""Pages that say what waits (issue 13): the workbench's live counts per role and in the user's scope, today's
city figures for the leader and the admin, the resident's home in the portal, the department queue's order with
suspended cases last, and a case notification that says what it is about."""

import re
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cityops.cases import services as s
from cityops.cases.models import Case
from cityops.cases.tests.conftest import POINT_JIANGAN, TZ
from cityops.core.home import home_cards, home_figures

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def card(user, title):
    found = [c for c in home_cards(user) if str(c.title) == title]
    assert found, f"no card {title} for {user.username}: {[str(c.title) for c in home_cards(user)]}"
    return found[0]


def card_html(html: str, title: str) -> str:
    """The markup of the card titled `title` on the home page."""
    match = re.search(r'<a class="card work-card[^"]*" href="[^"]*">\s*<span class="work-title"><strong>'
                      + re.escape(title) + r"</strong>.*?</a>", html, re.S)
    assert match, f"card {title} not on the page"
    return match.group(0)


def test_department_card_counts_its_queue_and_the_overdue(new_case, walk, handler_hw, handler_cg, clock):
    now = timezone.now()
    late = walk(new_case(), "accepted")
    Case.objects.filter(pk=late.pk).update(deadline_at=now - timedelta(hours=1))  # past a running deadline
    walk(new_case(), "dispatched")
    walk(new_case(), "registered")  # not the department's yet
    got = card(handler_hw, "本部门待办")
    assert (got.count, got.late, got.url) == (2, 1, "/cases/queue/")
    html = client_for(handler_hw).get("/").content.decode()
    shown = card_html(html, "本部门待办")
    assert '<span class="count">2</span>' in shown and "超期 1" in shown
    # Another department's staff: their own queue only.
    assert card(handler_cg, "本部门待办").count == 0


def test_dispatcher_and_intake_cards_count_what_waits_for_them(new_case, walk, dispatcher, operator, shift_lead, grid_worker):
    walk(new_case(), "registered")
    walk(new_case(), "registered")
    new_case()  # reported: waits for registration
    walk(new_case(), "closed")  # waits for the follow-up call
    assert card(dispatcher, "派遣队列").count == 2
    assert card(operator, "待立案").count == 1
    assert card(operator, "待回访").count == 1
    assert card(shift_lead, "待回访").count == 1
    handled = walk(new_case(), "handled")
    assert card(grid_worker, "待核查").count == 1 and handled.state == "handled"
    assert card(shift_lead, "待结案").count == 0


def test_a_card_count_is_scoped_like_its_page(new_case, walk, grid_worker_b, grid_worker):
    walk(new_case(), "handled")  # in 武昌区, grid_worker's region; grid_worker_b works in 江岸区
    assert card(grid_worker, "待核查").count == 1
    assert card(grid_worker_b, "待核查").count == 0


def test_counting_the_cards_costs_one_query_per_card(new_case, walk, handler_hw, django_assert_max_num_queries):
    walk(new_case(), "accepted")
    handler_hw.role_codes, handler_hw.org_unit_ids  # noqa: B018 - the user's roles and units are read at login
    cards = None
    with django_assert_max_num_queries(4):  # the queue, the supervision inbox, the IoT alarms (+ none spare)
        cards = home_cards(handler_hw)
    assert {str(c.title) for c in cards} >= {"本部门待办", "督办待回复"}


def test_leader_and_admin_see_todays_city_figures(new_case, walk, leader, operator, make_user):
    now = timezone.now()
    walk(new_case(), "archived")  # handled, followed up satisfied: today
    late = walk(new_case(), "accepted")
    Case.objects.filter(pk=late.pk).update(deadline_at=now - timedelta(hours=2))
    old = new_case()
    Case.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=2))
    figures = {str(f.label): f for f in home_figures(leader)}
    assert figures["今日受理"].value == "2"
    assert figures["超期在办"].value == "1" and figures["超期在办"].alert
    assert figures["今日按时办结率"].value == "100.0%"
    assert figures["今日满意率"].value == "100.0%"
    assert home_figures(operator) == []
    admin = make_user("t_admin", "admin")
    html = client_for(admin).get("/").content.decode()
    assert 'id="city-today"' in html and "今日受理" in html
    assert 'id="city-today"' not in client_for(operator).get("/").content.decode()


def test_todays_figures_count_from_local_midnight(new_case, leader, clock):
    clock(datetime(2026, 3, 10, 0, 30, tzinfo=TZ))
    new_case()
    clock(datetime(2026, 3, 9, 23, 50, tzinfo=TZ))
    new_case()
    clock(datetime(2026, 3, 10, 9, 0, tzinfo=TZ))
    assert {str(f.label): f.value for f in home_figures(leader)}["今日受理"] == "1"


def test_a_residents_home_is_the_portal_without_staff_menu_items(reference, resident):
    client = client_for(resident)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/portal/"
    html = client.get("/portal/").content.decode()
    nav = re.search(r'<nav class="mainnav">.*?</nav>', html, re.S).group(0)
    for staff_only in ('href="/cases/"', 'href="/geo/"', 'href="/api/v1/docs"'):
        assert staff_only not in nav
    assert 'href="/portal/report/"' in nav and 'href="/inbox/"' in nav


def test_staff_keep_their_menu(reference, operator):
    nav = re.search(r'<nav class="mainnav">.*?</nav>', client_for(operator).get("/").content.decode(), re.S).group(0)
    for item in ('href="/cases/"', 'href="/geo/"', 'href="/api/v1/docs"'):
        assert item in nav


def test_department_queue_puts_suspended_cases_after_the_running_ones(new_case, walk, handler_hw, dispatcher):
    suspended = walk(new_case(), "accepted")
    suspended = s.case_suspend_request(case=suspended, actor=handler_hw, reason="等待产权单位")
    suspended = s.case_suspend_decide(case=suspended, actor=dispatcher, approve=True)
    assert suspended.deadline_at is None
    first = walk(new_case(), "accepted")
    second = walk(new_case(), "dispatched")
    Case.objects.filter(pk=second.pk).update(deadline_at=first.deadline_at + timedelta(hours=1))
    from cityops.cases.selectors import department_queue

    assert [c.code for c in department_queue(user=handler_hw)] == [first.code, second.code, suspended.code]
    html = client_for(handler_hw).get("/cases/queue/").content.decode()
    assert html.index(f"case-{first.code}") < html.index(f"case-{second.code}") < html.index(f"case-{suspended.code}")


def test_a_case_notification_says_what_it_is_about(new_case, walk, handler_hw, django_capture_on_commit_callbacks):
    from cityops.core.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        case = walk(new_case(description="东亭路口垃圾桶满溢，异味很大"), "dispatched")
    note = Notification.objects.get(recipient=handler_hw, kind="case_dispatched")
    assert note.title == f"新派遣案件 {case.code}"
    assert "东亭路口垃圾桶满溢" in note.body and case.category.name_zh in note.body and "时限" in note.body


def test_a_residents_home_lists_their_own_reports(reference, resident, operator):
    from cityops.cases.services import case_create

    mine = case_create(actor=resident, category="E0101", lon=POINT_JIANGAN[0], lat=POINT_JIANGAN[1],
                       description="楼下垃圾没人清", source="portal").case
    other = case_create(actor=operator, category="E0101", lon=POINT_JIANGAN[0], lat=POINT_JIANGAN[1],
                        description="别人的上报", source="hotline").case
    html = client_for(resident).get("/portal/").content.decode()
    listed = re.search(r'<section class="card" id="my-reports">.*?</section>', html, re.S).group(0)
    assert mine.code in listed and other.code not in listed
    assert f'/portal/track/?code={mine.code}' in listed
