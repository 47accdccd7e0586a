"""督办 as a supervisor's act (issue 12 §4): supervision orders (督办单) on cases and sub-tasks — who issues and
answers, both timelines, the sweep raising an unanswered order after its working-time deadline, the queue, the
department evaluation, and bad input refused with nothing written."""

from datetime import date, datetime, timedelta

import pytest

from cityops.cases import evaluation
from cityops.cases import services as s
from cityops.cases.models import SupervisionOrder
from cityops.cases.supervision import selectors, services
from cityops.cases.tests.conftest import TZ
from cityops.core import actions, calendar, roles
from cityops.core.audit import audit_verify
from cityops.core.errors import CityopsError
from cityops.core.models import TimelineEntry
from cityops.core.timeline import timeline_for
from cityops.core.workflow import sweep_overdue

FRIDAY_AFTERNOON = datetime(2026, 3, 13, 15, 0, tzinfo=TZ)  # an ordinary Friday (no holiday near it)


@pytest.fixture
def supervisor(make_user):
    return make_user("t_supervisor", roles.SUPERVISOR)


@pytest.fixture
def accepted_case(new_case, walk):
    return walk(new_case(), "accepted")  # led by HW (环卫)


@pytest.fixture
def joint_case(new_case, operator, dispatcher, handler_hw):
    case = s.case_register(case=new_case(), actor=operator)
    case = s.case_dispatch(case=case, actor=dispatcher, department="HW", assisting=["CG"], task_limit_hours=8)
    return case, case.tasks.get()


def issue(actor, case, task=None, level="remind", reason="群众反映强烈，请加快办理", hours=4):
    return services.supervision_issue(actor=actor, case=case, task=task, level=level, reason=reason, hours=hours)


def case_actions(case) -> list[str]:
    return [e.action for e in timeline_for(case)]


# --- issuing ---------------------------------------------------------------------------------------------
def test_supervisor_issues_on_a_case_to_its_lead_department(clock, accepted_case, supervisor):
    now = clock(FRIDAY_AFTERNOON)
    order = issue(supervisor, accepted_case, level="escalate", hours=4)
    assert (order.state, order.level, order.unit.code, order.task_id) == ("issued", "escalate", "HW", None)
    # The response deadline is working time: 2.5 h left on Friday, the rest on Monday morning.
    assert order.deadline_at == calendar.add_seconds(now, 4 * 3600, "work")
    assert order.deadline_at.date() == date(2026, 3, 16)
    assert [e.action for e in timeline_for(order)] == ["draft", "issue"]
    issued = timeline_for(order).last()
    assert issued.params["dept"] == "HW" and issued.params["level"] == "escalate"
    on_case = timeline_for(accepted_case).last()
    assert (on_case.action, on_case.note, on_case.params["order"], on_case.params["unit"]) == (
        "supervise", "群众反映强烈，请加快办理", order.pk, "HW")
    assert on_case.to_state == "accepted"  # the case itself does not move


def test_supervisor_issues_on_a_sub_task_to_its_assisting_department(joint_case, supervisor):
    case, task = joint_case
    order = issue(supervisor, case, task=task)
    assert (order.unit.code, order.task_id, order.case_id) == ("CG", task.pk, case.pk)
    assert timeline_for(case).last().params["task"] == task.pk


def test_the_issue_action_is_offered_exactly_when_it_would_be_accepted(accepted_case, supervisor, dispatcher, walk,
                                                                       new_case):
    def offered(user, case):
        draft = SupervisionOrder(case=case, unit_id=case.lead_department_id, state="draft")
        return "issue" in [t.action for t in actions.available_actions(draft, user)]

    assert offered(supervisor, accepted_case)
    assert not offered(dispatcher, accepted_case)
    closed = walk(new_case(), "archived")
    assert not offered(supervisor, closed)


# --- who answers -------------------------------------------------------------------------------------------
def test_the_responsible_unit_answers_and_the_answer_is_on_both_timelines(accepted_case, supervisor, handler_hw,
                                                                           handler_cg):
    order = issue(supervisor, accepted_case)
    assert [t.action for t in actions.available_actions(order, handler_hw)] == ["answer"]
    assert actions.available_actions(order, handler_cg) == []
    with pytest.raises(CityopsError) as refused:
        actions.run_action(order, "answer", handler_cg, {"answer": "不是我们的"})
    assert (refused.value.status, refused.value.code) == (403, "role_not_allowed")

    answered = actions.run_action(order, "answer", handler_hw, {"answer": "已安排清运，今日完成"})
    assert (answered.state, answered.answer) == ("answered", "已安排清运，今日完成")
    assert timeline_for(order).last().action == "answer"
    on_case = timeline_for(accepted_case).last()
    assert (on_case.action, on_case.note, on_case.actor_id) == ("supervision_answer", "已安排清运，今日完成", handler_hw.pk)

    closed = actions.run_action(answered, "close", supervisor, {"note": "认可"})
    assert closed.state == "closed" and closed.closed_at is not None
    assert case_actions(accepted_case)[-1] == "supervision_close"


def test_a_supervisor_escalates_a_wanting_answer_up_to_the_listed_level(accepted_case, supervisor, handler_hw):
    order = issue(supervisor, accepted_case, level="escalate")
    order = actions.run_action(order, "answer", handler_hw, {"answer": "研究中"})
    order = actions.run_action(order, "escalate", supervisor, {"reason": "回复空泛"})
    assert (order.state, order.level, order.escalations) == ("issued", "listed", 1)
    assert order.deadline_at is not None
    assert "escalate" not in [t.action for t in actions.available_actions(order, supervisor)]
    with pytest.raises(CityopsError) as refused:
        actions.run_action(order, "escalate", supervisor, {"reason": "再升级"})
    assert refused.value.code == "top_level"


# --- the sweep ---------------------------------------------------------------------------------------------
def test_the_sweep_escalates_an_unanswered_order_after_its_working_time_deadline(clock, accepted_case, supervisor):
    clock(FRIDAY_AFTERNOON)
    order = issue(supervisor, accepted_case, level="remind", hours=4)
    deadline = order.deadline_at
    # The weekend does not count: on Saturday and on Monday morning before the deadline nothing happens.
    for moment in (datetime(2026, 3, 14, 12, 0, tzinfo=TZ), deadline - timedelta(minutes=1)):
        clock(moment)
        sweep_overdue()
        assert SupervisionOrder.objects.get(pk=order.pk).level == "remind"

    clock(deadline + timedelta(minutes=1))
    assert sweep_overdue().get("escalate") == 1
    raised = SupervisionOrder.objects.get(pk=order.pk)
    assert (raised.state, raised.level, raised.escalations, raised.overdue) == ("issued", "escalate", 1, False)
    assert raised.deadline_at == calendar.add_seconds(deadline + timedelta(minutes=1), 4 * 3600, "work")
    entry = timeline_for(raised).last()
    assert (entry.action, entry.actor_id, entry.params["level"], entry.params["to_level"]) == (
        "escalate", None, "remind", "escalate")
    on_case = timeline_for(accepted_case).last()
    assert (on_case.action, on_case.params["level"], on_case.params["from_level"]) == (
        "supervision_escalate", "escalate", "remind")

    clock(raised.deadline_at + timedelta(minutes=1))
    sweep_overdue()
    listed = SupervisionOrder.objects.get(pk=order.pk)
    assert listed.level == "listed"

    # At the top level the order is marked overdue once, and stays so.
    clock(listed.deadline_at + timedelta(minutes=1))
    assert sweep_overdue().get("overdue") == 1
    clock(listed.deadline_at + timedelta(days=3))
    sweep_overdue()
    last = SupervisionOrder.objects.get(pk=order.pk)
    assert (last.level, last.overdue, last.state) == ("listed", True, "issued")
    assert [e.action for e in timeline_for(last)] == ["draft", "issue", "escalate", "escalate", "overdue"]
    assert case_actions(accepted_case).count("supervision_escalate") == 2
    checked, problems = audit_verify(checkpoints=False)  # every chain agrees with its row, the sweep's steps too
    assert checked and problems == []


def test_an_answered_order_is_not_escalated_by_the_sweep(clock, accepted_case, supervisor, handler_hw):
    clock(FRIDAY_AFTERNOON)
    order = issue(supervisor, accepted_case, hours=1)
    actions.run_action(order, "answer", handler_hw, {"answer": "已处理"})
    clock(FRIDAY_AFTERNOON + timedelta(days=7))
    sweep_overdue()
    assert SupervisionOrder.objects.get(pk=order.pk).level == "remind"


# --- the queue and evaluation ------------------------------------------------------------------------------
def test_the_queue_orders_by_level_then_lateness(clock, new_case, walk, supervisor, handler_hw, leader):
    clock(FRIDAY_AFTERNOON)
    cases = [walk(new_case(), "accepted") for _ in range(5)]
    late_remind = issue(supervisor, cases[0], level="remind", hours=1)
    later_remind = issue(supervisor, cases[1], level="remind", hours=8)
    listed = issue(supervisor, cases[2], level="listed", hours=8)
    answered_escalate = issue(supervisor, cases[3], level="escalate", hours=1)
    actions.run_action(answered_escalate, "answer", handler_hw, {"answer": "已办"})
    escalate = issue(supervisor, cases[4], level="escalate", hours=16)
    queue = list(selectors.supervision_queue(user=supervisor))
    assert [o.pk for o in queue] == [listed.pk, escalate.pk, answered_escalate.pk, late_remind.pk, later_remind.pk]
    assert [o.pk for o in selectors.supervision_queue(user=leader, level="remind")] == [late_remind.pk, later_remind.pk]
    with pytest.raises(CityopsError) as refused:
        selectors.supervision_queue(user=handler_hw)
    assert refused.value.status == 403


def test_evaluation_counts_supervision_received_per_department(clock, joint_case, accepted_case, supervisor):
    clock(FRIDAY_AFTERNOON)
    case, task = joint_case
    issue(supervisor, accepted_case)
    issue(supervisor, case)
    issue(supervisor, case, task=task)
    day = FRIDAY_AFTERNOON.date()
    got = selectors.supervision_received(start=day, end=day)
    assert got == {"HW": {"received": 2, "escalated": 0}, "CG": {"received": 1, "escalated": 0}}
    assert selectors.supervision_received(start=day + timedelta(days=1), end=day + timedelta(days=1)) == {}
    assert selectors.received_by_department(start=day, end=day) == {"HW": 2, "CG": 1}
    # A column of the department evaluation (its page and exports show the same columns).
    assert "supervision_received" in [c.key for c in evaluation.EVALUATIONS["departments"].columns]
    # (the cases were dispatched when the fixtures ran, today: the period spans both days)
    today = datetime.now(TZ).date()  # the real date: timezone.now is frozen on the Friday
    rows = {r["department"]: r for r in evaluation.evaluate("departments", start=min(day, today), end=max(day, today))}
    assert rows["HW"]["supervision_received"] == 2 and rows["CG"]["supervision_received"] == 1


# --- the API -----------------------------------------------------------------------------------------------
def _counts():
    return SupervisionOrder.objects.count(), TimelineEntry.objects.count()


def test_api_issue_answer_and_refusals(api_client_for, accepted_case, supervisor, handler_hw, dispatcher):
    api, other = api_client_for(supervisor), api_client_for(dispatcher)
    before = _counts()
    body = {"case": accepted_case.code, "level": "remind", "reason": "请尽快处置", "hours": 8}
    refused = other.post("/api/v1/supervision/orders", body, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "role_not_allowed"
    assert refused.json()["message"] and refused.json()["message_en"]
    assert _counts() == before

    made = api.post("/api/v1/supervision/orders", body, content_type="application/json")
    assert made.status_code == 201, made.content
    order = made.json()
    assert (order["state"], order["unit"], order["level_label"]) == ("issued", "HW", "催办")

    answered = api_client_for(handler_hw).post(f"/api/v1/supervision/orders/{order['id']}/answer",
                                               {"answer": "已清运"}, content_type="application/json")
    assert answered.status_code == 200 and answered.json()["state"] == "answered"
    inbox = api_client_for(handler_hw).get("/api/v1/supervision/inbox").json()
    assert inbox == []
    assert [o["id"] for o in api.get("/api/v1/supervision/queue").json()] == [order["id"]]
    assert api_client_for(handler_hw).get("/api/v1/supervision/queue").status_code == 403


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"reason": "  "}, 400, "reason_required"),
    ({"hours": 0}, 400, "invalid_response_hours"),
    ({"hours": -3}, 400, "invalid_response_hours"),
    ({"hours": 10_000}, 400, "invalid_response_hours"),
    ({"level": "urgent"}, 400, "unknown_level"),
    ({"level": "x" * 300}, 400, "unknown_level"),
    ({"task": 999_999}, 404, "task_not_found"),
])
def test_api_bad_input_is_refused_with_a_code_and_nothing_written(api_client_for, accepted_case, supervisor, change,
                                                                   status, code):
    api = api_client_for(supervisor)
    before = _counts()
    body = {"case": accepted_case.code, "level": "remind", "reason": "请尽快处置", "hours": 8, **change}
    answer = api.post("/api/v1/supervision/orders", body, content_type="application/json")
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert answer.json()["message"] and answer.json()["message_en"]
    assert _counts() == before


def test_api_closed_or_unheld_targets_are_refused(api_client_for, new_case, walk, operator, supervisor):
    api = api_client_for(supervisor)
    archived = walk(new_case(), "archived")
    registered = s.case_register(case=new_case(), actor=operator)  # not dispatched: no unit holds it
    before = _counts()
    for case, code in ((archived, "target_closed"), (registered, "no_responsible_unit")):
        answer = api.post("/api/v1/supervision/orders", {"case": case.code, "level": "remind", "reason": "催",
                                                           "hours": 8}, content_type="application/json")
        assert (answer.status_code, answer.json()["code"]) == (409, code)
    assert _counts() == before


# --- the pages ---------------------------------------------------------------------------------------------
def client_for(user, language: str = "zh-hans"):
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def test_the_case_page_offers_the_issue_form_to_a_supervisor_only(accepted_case, supervisor, dispatcher, handler_hw):
    page = client_for(supervisor).get(f"/cases/{accepted_case.code}/").content.decode()
    assert 'id="form-supervision-issue"' in page and 'hx-post="/cases/supervision/issue/' in page
    for user in (dispatcher, handler_hw):
        page = client_for(user).get(f"/cases/{accepted_case.code}/").content.decode()
        assert 'id="form-supervision-issue"' not in page


def test_issue_from_the_case_page_with_htmx_then_answer_it_there(accepted_case, supervisor, dispatcher, handler_hw):
    url = f"/cases/supervision/issue/{accepted_case.code}/"
    form = {"target": "case", "level": "escalate", "hours": "8", "reason": "请说明进展"}
    refused = client_for(dispatcher).post(url, form, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200 and not SupervisionOrder.objects.exists()
    assert "您的角色不能执行" in refused.content.decode()  # the service's coded refusal (role_not_allowed)

    panel = client_for(supervisor).post(url, form, HTTP_HX_REQUEST="true")
    order = SupervisionOrder.objects.get()
    fragment = panel.content.decode()
    assert fragment.startswith('<section class="card" id="supervision">')
    assert f'id="order-{order.pk}"' in fragment and "环境卫生" in fragment and "请说明进展" in fragment

    page = client_for(handler_hw).get(f"/cases/{accepted_case.code}/").content.decode()
    assert f'id="o{order.pk}-answer"' in page and 'id="form-supervision-issue"' not in page
    answered = client_for(handler_hw).post(f"/cases/supervision/{order.pk}/act/answer/",
                                           {"answer": "已加派人员", "fragment": "panel"}, HTTP_HX_REQUEST="true")
    assert "已加派人员" in answered.content.decode()
    assert SupervisionOrder.objects.get().state == "answered"
    timeline = client_for(supervisor).get(f"/cases/{accepted_case.code}/").content.decode()
    assert "下达督办单" in timeline and "督办回复" in timeline and "已加派人员" in timeline
    english = client_for(supervisor, "en").get(f"/cases/{accepted_case.code}/").content.decode()
    assert "Supervision order answered" in english and "Escalation" in english
    # Without htmx the panel's forms come back to the case page.
    assert f'name="next" value="/cases/{accepted_case.code}/#supervision"' in timeline
    closed = client_for(supervisor).post(f"/cases/supervision/{order.pk}/act/close/",
                                         {"note": "", "next": f"/cases/{accepted_case.code}/#supervision"})
    assert closed["Location"] == f"/cases/{accepted_case.code}/#supervision"
    assert SupervisionOrder.objects.get().state == "closed"


def test_the_queue_page_and_the_inbox(clock, new_case, walk, supervisor, handler_hw, handler_cg):
    clock(FRIDAY_AFTERNOON)
    first, second = walk(new_case(), "accepted"), walk(new_case(), "accepted")
    remind = issue(supervisor, first, level="remind")
    listed = issue(supervisor, second, level="listed")
    home = client_for(supervisor).get("/").content.decode()
    assert 'href="/cases/supervision/"' in home
    page = client_for(supervisor).get("/cases/supervision/").content.decode()
    assert page.index(f'id="order-{listed.pk}"') < page.index(f'id="order-{remind.pk}"')
    assert client_for(handler_hw).get("/cases/supervision/").status_code == 403

    inbox = client_for(handler_hw).get("/cases/supervision/inbox/").content.decode()
    assert f'id="o{remind.pk}-answer"' in inbox and f'id="o{listed.pk}-answer"' in inbox
    assert 'id="order-' not in client_for(handler_cg).get("/cases/supervision/inbox/").content.decode()
    done = client_for(handler_hw).post(f"/cases/supervision/{remind.pk}/act/answer/",
                                       {"answer": "已清理", "next": "/cases/supervision/inbox/"})
    assert done.status_code == 302 and done["Location"] == "/cases/supervision/inbox/"
    assert SupervisionOrder.objects.get(pk=remind.pk).state == "answered"
    order_page = client_for(supervisor).get(f"/cases/supervision/orders/{remind.pk}/").content.decode()
    assert 'id="form-close"' in order_page
