"""A dispute's life through the API, as each role: intake, routing, assignment, mediation with an extension only
by every party's consent, the agreement, judicial confirmation, performance and follow-up; refusals that are coded,
bilingual and write nothing; escalation alerts; the risk level; the referral API; the hotline link both ways."""

from __future__ import annotations

import json

import pytest

from cityops.cases.tests.conftest import POINT_WUCHANG_A
from cityops.core import actions
from cityops.core.models import Notification
from cityops.core.timeline import timeline_for
from cityops.disputes.models import Dispute, Party
from cityops.disputes.tests import test_intake as intake
from cityops.disputes.tests.test_intake import parties

# The shared fixtures (test_intake.py): a centre, two committees, one person per role.
geography, reference, world, walk_in = intake.geography, intake.reference, intake.world, intake.walk_in

pytestmark = pytest.mark.django_db
API = "/api/v1/disputes"


def post(client, url, body=None, **headers):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json", **headers)


def new_body(**kw):
    body = {"title": "欠薪纠纷", "description": "某装修队拖欠三名工人工资", "kind": "labour", "parties": parties(),
            "lon": POINT_WUCHANG_A[0], "lat": POINT_WUCHANG_A[1], "amount": "36000"}
    body.update(kw)
    return body


@pytest.fixture
def clients(world, api_client_for):
    return {name: api_client_for(world[name]) for name in
            ("staff", "other_staff", "mediator", "mediator_w", "police", "police_ja", "leader", "operator",
             "resident", "resident2", "court_user", "grid")}


def _state(pk):
    return Dispute.objects.get(pk=pk)


def test_the_statutory_path_through_the_api(world, clients):
    staff, mediator = clients["staff"], clients["mediator"]
    r = post(staff, f"{API}/", new_body(), HTTP_IDEMPOTENCY_KEY="desk-1")
    assert r.status_code == 201, r.content
    d = r.json()
    assert d["source"] == "walk_in" and d["state"] == "registered" and r["ETag"] == '"0"'
    assert {p["id_masked"] for p in d["parties"]} == {"110105********002X", "420102********1232"}
    assert "11010519491231002X" not in r.content.decode() and "13812345678" not in r.content.decode()
    again = post(staff, f"{API}/", new_body(title="重复"), HTTP_IDEMPOTENCY_KEY="desk-1")
    assert again.status_code == 200 and again.json()["id"] == d["id"]
    pk = d["id"]

    suggestion = staff.get(f"{API}/{pk}/suggestion").json()
    assert suggestion["committee_name"] == "东社区人民调解委员会" and suggestion["reasons"][0]["en"]
    assert clients["mediator"].get(f"{API}/{pk}/suggestion").status_code == 404  # not routed to them yet
    assert clients["leader"].get(f"{API}/{pk}/suggestion").status_code == 403
    r = post(staff, f"{API}/{pk}/accept", {"channel": suggestion["channel"], "committee_id": suggestion["committee_id"]})
    assert r.status_code == 200 and r.json()["committee"]["name"] == "东社区人民调解委员会"
    assert r.json()["level"] == "community"
    # A mediator of another committee is refused (and sees nothing of it).
    r = post(staff, f"{API}/{pk}/assign", {"mediator_id": world["mediator_w"].pk})
    assert r.status_code == 400 and r.json()["code"] == "mediator_not_in_committee"
    assert post(clients["mediator_w"], f"{API}/{pk}/assign", {"mediator_id": world["mediator_w"].pk}).status_code == 404
    r = post(mediator, f"{API}/{pk}/assign", {"mediator_id": world["mediator"].pk})
    assert r.status_code == 200 and r.json()["mediator"]["name"] == "王调解"
    assert post(mediator, f"{API}/{pk}/start").json()["state"] == "mediating"

    before = _state(pk)
    applicant, respondent = Party.objects.filter(dispute_id=pk).order_by("side")
    # An extension with one party's consent only: refused, nothing written.
    r = post(mediator, f"{API}/{pk}/extend", {"extra_days": 10, "reason": "需要补充证据",
                                               "consents": [{"party_id": applicant.pk, "method": "written"}]})
    assert r.status_code == 409 and r.json()["code"] == "consent_missing" and r.json()["message_en"]
    assert r.json()["details"]["missing_party_ids"] == [respondent.pk]
    r = post(mediator, f"{API}/{pk}/extend", {"extra_days": 10, "reason": "x", "consents": [
        {"party_id": applicant.pk, "method": "written"}, {"party_id": respondent.pk, "method": "by_pigeon"}]})
    assert r.status_code == 409 and r.json()["code"] == "consent_missing"  # a consent in no known way is none
    assert r.json()["details"]["unknown_method_party_ids"] == [respondent.pk]
    assert _state(pk).version == before.version and _state(pk).deadline_at == before.deadline_at
    r = post(mediator, f"{API}/{pk}/extend", {"extra_days": 10, "reason": "需要补充证据", "consents": [
        {"party_id": applicant.pk, "method": "written"}, {"party_id": respondent.pk, "method": "recorded_call"}]},
        HTTP_IF_MATCH=f'"{before.version}"')
    assert r.status_code == 200
    assert (_state(pk).deadline_at - before.deadline_at).days == 10

    # An agreement without terms: refused, nothing written.
    version = _state(pk).version
    r = post(mediator, f"{API}/{pk}/agree", {"facts": "拖欠工资", "terms": "   ", "performance_method": "转账"})
    assert r.status_code == 400 and r.json()["code"] == "terms_required"
    assert _state(pk).version == version and not hasattr(_state(pk), "agreement_cache")
    r = post(mediator, f"{API}/{pk}/agree", {"facts": "拖欠工资", "terms": "十日内付清 36000 元",
                                              "performance_method": "银行转账"}, HTTP_IF_MATCH='"1"')
    assert r.status_code == 412 and r.json()["code"] == "stale_version"
    r = post(mediator, f"{API}/{pk}/agree", {"facts": "拖欠工资", "terms": "十日内付清 36000 元",
                                              "performance_method": "银行转账"})
    assert r.status_code == 200 and r.json()["agreement"]["terms"] == "十日内付清 36000 元"
    # Judicial confirmation only once every party has signed the agreement.
    r = post(mediator, f"{API}/{pk}/request_confirmation", {"court": "武昌区人民法院"})
    assert r.status_code == 409 and r.json()["code"] == "agreement_unsigned"
    intake.sign_everyone(_state(pk), world["mediator"])
    r = post(mediator, f"{API}/{pk}/request_confirmation", {"court": "武昌区人民法院"})
    assert r.json()["state"] == "confirmation_requested"
    assert post(staff, f"{API}/{pk}/confirm").json()["state"] == "confirmed"
    assert post(mediator, f"{API}/{pk}/perform").json()["state"] == "performed"
    r = post(mediator, f"{API}/{pk}/follow_up", {"result": "双方满意", "satisfied": True})
    assert r.json()["state"] == "closed"
    actions = [e.action for e in timeline_for(_state(pk)) if e.action != "sign"]
    assert actions == ["register", "accept", "assign", "start", "extend", "agree", "request_confirmation",
                       "confirm", "perform", "follow_up"]


def test_a_new_agreement_after_a_refused_confirmation_is_signed_afresh(world, clients, walk_in):
    from cityops.disputes.models import Signature

    d = services_path_to_agreed(world, walk_in)
    intake.sign_everyone(d, world["mediator"])
    mediator, staff = clients["mediator"], clients["staff"]
    assert post(mediator, f"{API}/{d.pk}/request_confirmation", {"court": "武昌区人民法院"}).status_code == 200
    r = post(staff, f"{API}/{d.pk}/reject_confirmation", {"reason": "协议内容违反法律规定"})
    assert r.json()["state"] == "not_confirmed"
    assert post(mediator, f"{API}/{d.pk}/remediate").json()["state"] == "mediating"
    assert Signature.objects.filter(agreement__dispute=d).count() == 2
    r = post(mediator, f"{API}/{d.pk}/agree", {"facts": "漏水", "terms": "重新约定：五日内修复", "performance_method": "维修"})
    assert r.status_code == 200 and r.json()["agreement"]["terms"] == "重新约定：五日内修复"
    assert not Signature.objects.filter(agreement__dispute=d).exists()  # the new terms are not signed yet
    r = post(mediator, f"{API}/{d.pk}/request_confirmation", {"court": "武昌区人民法院"})
    assert r.status_code == 409 and r.json()["code"] == "agreement_unsigned"


def services_path_to_agreed(world, walk_in):
    from cityops.disputes import services

    d = services.accept(dispute=walk_in(), actor=world["staff"], channel="people", committee_id=world["east"].pk)
    d = services.assign(dispute=d, actor=world["staff"], mediator_id=world["mediator"].pk)
    d = actions.run_action(d, "start", world["mediator"], {})
    return services.agree(dispute=d, actor=world["mediator"], facts="漏水", terms="赔偿 800 元",
                          performance_method="转账")


@pytest.mark.parametrize(("body", "kwargs", "status", "code"), [
    ("{not json", {}, 400, "invalid_json"),
    (json.dumps(new_body()), {"content_type": "text/plain"}, 415, "unsupported_media_type"),
    (json.dumps(new_body(title="a\u0000b")), {}, 400, "invalid_characters"),  # the edge refuses NUL
    (json.dumps(new_body(amount="1e30")), {}, 400, "invalid_input"),
    (json.dumps(new_body(amount=10**20)), {}, 400, "invalid_input"),
    (json.dumps(new_body(parties=parties(id_number="110105194912310021"))), {}, 400, "invalid_id_number"),
    (json.dumps(new_body(parties=[parties()[0], {"side": "respondent", "kind": "organisation", "name": "某公司",
                                                  "uscc": "91110000600037341A"}])), {}, 400, "invalid_uscc"),
    (json.dumps(new_body(lon=1e308)), {}, 400, "invalid_input"),
    ("[1, 2]", {}, 400, "invalid_json"),
])
def test_bad_input_is_coded_bilingual_and_writes_nothing(world, clients, body, kwargs, status, code):
    kwargs.setdefault("content_type", "application/json")
    r = clients["staff"].post(f"{API}/", data=body, **kwargs)
    assert r.status_code == status, r.content
    answer = r.json()
    assert answer["code"] == code and answer["message"] and answer["message_en"]
    assert Dispute.objects.count() == 0 and Party.objects.count() == 0


def test_an_action_with_hostile_input(world, clients, walk_in):
    d = walk_in()
    r = post(clients["staff"], f"{API}/{d.pk}/accept", {"channel": "people", "committee_id": 2**70})
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"
    r = post(clients["staff"], f"{API}/{d.pk}/accept", {"channel": "magic", "committee_id": world["east"].pk})
    assert r.status_code == 400 and r.json()["code"] == "invalid_channel"
    r = post(clients["staff"], f"{API}/{d.pk}/escalate", {"reason": "\u0000"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_characters"
    assert _state(d.pk).version == d.version


def test_escalation_alerts_the_centres_police_liaison_and_the_leaders_at_once(world, clients, walk_in,
                                                                             django_capture_on_commit_callbacks):
    d = walk_in()
    with django_capture_on_commit_callbacks(execute=True):
        r = post(clients["staff"], f"{API}/{d.pk}/escalate", {"reason": "一方扬言报复，携带刀具"})
    assert r.status_code == 200 and r.json()["state"] == "escalated" and r.json()["risk_level"] == "high"
    alerted = set(Notification.objects.filter(kind="dispute_escalated").values_list("recipient__username", flat=True))
    assert alerted == {"t_police", "t_leader_d"}  # not the liaison of 江岸区's centre
    note = Notification.objects.get(kind="dispute_escalated", recipient=world["police"])
    assert d.code in note.title and note.url == f"/disputes/{d.pk}/"
    # The liaison sees it now and hands it over to the police.
    assert clients["police"].get(f"{API}/{d.pk}").status_code == 200
    assert clients["police_ja"].get(f"{API}/{d.pk}").status_code == 404
    r = post(clients["police"], f"{API}/{d.pk}/hand_over", {"reason": "已由派出所处置"})
    assert r.status_code == 200 and r.json()["state"] == "referred"
    assert list(timeline_for(_state(d.pk)))[-1].note == "已由派出所处置"


def test_risk_only_rises_and_is_on_the_timeline(world, clients, walk_in):
    d = walk_in()
    r = post(clients["grid"], f"{API}/{d.pk}/raise-risk", {"level": "medium", "reason": "双方多次争吵"})
    assert r.status_code == 200 and r.json()["risk_level"] == "medium" and r["ETag"] == '"1"'
    r = post(clients["staff"], f"{API}/{d.pk}/raise-risk", {"level": "low", "reason": "已缓和"})
    assert r.status_code == 409 and r.json()["code"] == "risk_not_raised"
    r = post(clients["resident"], f"{API}/{d.pk}/raise-risk", {"level": "high", "reason": "x"})
    assert r.status_code == 404  # not theirs: not even seen
    entry = list(timeline_for(_state(d.pk)))[-1]
    assert (entry.action, entry.params["from"], entry.params["to"]) == ("raise_risk", "low", "medium")


def test_referral_api_with_the_bodys_token(world, clients, make_user, api_client_for):
    from cityops.core import roles
    from cityops.disputes.models import Referrer

    court = clients["court_user"]
    body = new_body(external_ref="(2026)鄂0106民诉前调88号", entrustment="court_15")
    first = post(court, f"{API}/referrals", body)
    assert first.status_code == 201, first.content
    assert first.json()["source"] == "court" and first.json()["entrustment"] == "court_15"
    again = post(court, f"{API}/referrals", body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Dispute.objects.count() == 1
    follow = court.get(f"{API}/referrals/(2026)鄂0106民诉前调88号")
    assert follow.status_code == 200 and follow.json()["state"] == "registered"
    # Another body sees nothing of it, by its number or by id.
    police_user = make_user("t_police_sys", roles.REFERRER)
    Referrer.objects.create(code="GA-WC", name="武昌区公安分局", kind="police", user=police_user, centre=world["centre"])
    police = api_client_for(police_user)
    assert police.get(f"{API}/referrals/(2026)鄂0106民诉前调88号").status_code == 404
    assert police.get(f"{API}/{first.json()['id']}").status_code == 404
    assert police.get(f"{API}/").json()["count"] == 0
    assert court.get(f"{API}/").json()["count"] == 1
    # A person's token is no referring body's.
    r = post(clients["resident"], f"{API}/referrals", body)
    assert r.status_code == 403 and r.json()["code"] == "not_a_referrer"
    # Without a token: 401.
    from django.test import Client

    assert post(Client(), f"{API}/referrals", body).status_code == 401


def test_hotline_case_becomes_a_dispute_and_both_link(world, clients):
    from cityops.cases.services import case_create

    case = case_create(actor=world["operator"], category="E0101", description="邻居装修噪音扰民，双方争吵",
                       lon=POINT_WUCHANG_A[0], lat=POINT_WUCHANG_A[1], source="hotline").case
    r = post(clients["operator"], f"{API}/from-case/{case.code}", {"kind": "neighbour", "parties": parties()})
    assert r.status_code == 201, r.content
    d = Dispute.objects.get(pk=r.json()["id"])
    assert d.case == case and d.source == "hotline" and r.json()["case_code"] == case.code
    assert d.centre == world["centre"] and d.description == case.description
    assert list(case.disputes.all()) == [d]
    entry = list(timeline_for(case))[-1]
    assert (entry.action, entry.params["dispute"]) == ("to_dispute", d.code)
    again = post(clients["operator"], f"{API}/from-case/{case.code}", {"kind": "neighbour", "parties": parties()})
    assert again.status_code == 409 and again.json()["code"] == "case_has_dispute"
    # The case page links the dispute.
    from django.test import Client

    web = Client()
    web.force_login(world["operator"])
    page = web.get(f"/cases/{case.code}/")
    assert page.status_code == 200 and f"/disputes/{d.pk}/" in page.content.decode()
    assert d.code in page.content.decode()
    # The resident has no right to turn a case into a dispute.
    r = post(clients["resident"], f"{API}/from-case/{case.code}", {"kind": "neighbour", "parties": parties()})
    assert r.status_code in (403, 404)
