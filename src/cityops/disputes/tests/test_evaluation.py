"""Evaluation of dispute resolution (evaluation.py): each indicator on a small, hand-counted scenario played
through the real services and the workflow engine, then its scope (who sees which rows) and the period."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from cityops.accounts.models import OrgUnit
from cityops.core import roles
from cityops.core.errors import Forbidden, InvalidInput
from cityops.core.workflow import create_with_timeline, transition
from cityops.disputes import evaluation, services
from cityops.disputes.demo import sign_all
from cityops.disputes.models import Campaign, CommitteeRemit, Dispute, Party, Visit

pytestmark = pytest.mark.django_db
_codes = itertools.count(1)
TODAY = timezone.localdate()
PERIOD = {"start": TODAY - timedelta(days=1), "end": TODAY}


@pytest.fixture
def world(make_user, settings, tmp_path):
    settings.DATA_DIR = tmp_path  # signature scans (private files) go to the test's own folder
    centre = OrgUnit.objects.create(code="T-CENTRE", name="汉阳区矛盾纠纷多元化解中心", kind="centre",
                                    region_code="420105")
    other_centre = OrgUnit.objects.create(code="T-CENTRE2", name="武昌区矛盾纠纷多元化解中心", kind="centre",
                                          region_code="420106")
    k1 = OrgUnit.objects.create(code="T-K1", name="翠微街团结社区人民调解委员会", kind="committee",
                                region_code="420105001001")
    k2 = OrgUnit.objects.create(code="T-K2", name="翠微街人民调解委员会", kind="committee", region_code="420105001")
    k3 = OrgUnit.objects.create(code="T-K3", name="汉阳区物业纠纷人民调解委员会", kind="committee",
                                region_code="420105")
    CommitteeRemit.objects.create(committee=k3, channel="industry", kinds=["property"])
    w = {
        "centre": centre, "other_centre": other_centre, "k1": k1, "k2": k2, "k3": k3,
        "staff": make_user("e_staff", roles.CENTRE_STAFF, org_units=[centre.code]),
        "other_staff": make_user("e_staff2", roles.CENTRE_STAFF, org_units=[other_centre.code]),
        "m1": make_user("e_m1", roles.MEDIATOR, org_units=[k1.code], first_name="调解员 甲"),
        "m1b": make_user("e_m1b", roles.MEDIATOR, org_units=[k1.code], first_name="调解员 乙"),
        "m2": make_user("e_m2", roles.MEDIATOR, org_units=[k2.code], first_name="调解员 丙"),
        "m3": make_user("e_m3", roles.MEDIATOR, org_units=[k3.code], first_name="调解员 丁"),
        "leader": make_user("e_leader", roles.LEADER),
        "resident": make_user("e_resident", roles.RESIDENT),
    }
    return w


def registered(w, centre=None):
    d = Dispute(code=f"E{next(_codes):06d}", title="评价测试", description="评价测试", kind="neighbour",
                source="walk_in", centre=centre or w["centre"], region_code="42010500100101")
    d = create_with_timeline(d, actor=w["staff"], action="register", params={"centre": d.centre.code})
    Party.objects.create(dispute=d, side="applicant", name="张三")
    return d


def mediating(w, committee="k1", mediator="m1"):
    d = registered(w)
    d = services.accept(dispute=d, actor=w["staff"], channel="people", committee_id=w[committee].pk)
    d = services.assign(dispute=d, actor=w["staff"], mediator_id=w[mediator].pk)
    return transition(d, "start", w[mediator])


def agreed(w, committee="k1", mediator="m1", *, late=False):
    d = mediating(w, committee, mediator)
    if late:  # 31 days into a 30-day mediation
        Dispute.objects.filter(pk=d.pk).update(clock_started_at=timezone.now() - timedelta(days=31))
    return services.agree(dispute=d, actor=w[mediator], facts="事实", terms="条款", performance_method="当面支付")


def requested(w, **kw):
    d = agreed(w, **kw)
    sign_all(d, w[kw.get("mediator", "m1")])  # judicial confirmation needs every party's signature
    return services.request_confirmation(dispute=d, actor=w[kw.get("mediator", "m1")], court="汉阳区人民法院")


def confirmed(w, **kw):
    return transition(requested(w, **kw), "confirm", w["staff"])


def row(rows, key):
    found = [r for r in rows if r["key"] == key]
    assert found, f"no row {key} in {[r['key'] for r in rows]}"
    return found[0]


def leader_view(w):
    return evaluation.evaluate(user=w["leader"], **PERIOD)


def test_success_rate_is_agreements_over_finished_mediations(world):
    w = world
    for _ in range(3):
        agreed(w)
    services.terminate(dispute=mediating(w), actor=w["m1"], reason="no_agreement")
    d = mediating(w)
    services.refuse(dispute=d, actor=w["m1"], party_id=d.parties.first().pk, reason="不愿调解")
    d = registered(w)  # refused before any mediation: not a finished mediation
    services.refuse(dispute=d, actor=w["staff"], party_id=d.parties.first().pk, reason="不愿调解")
    services.escalate(dispute=mediating(w), actor=w["m1"], reason="扬言报复")  # may resume: not finished
    mediating(w)  # still mediating
    r = row(leader_view(w)["committees"], "T-K1")
    assert (r["agreements"], r["finished"], r["success_rate"]) == (3, 5, 0.6)
    assert row(leader_view(w)["centres"], "T-CENTRE")["success_rate"] == 0.6


def test_on_time_rate_reads_the_agreements_on_time_stamp(world):
    w = world
    for _ in range(3):
        agreed(w)
    agreed(w, late=True)
    agreed(w, mediator="m1b", late=True)
    rows = leader_view(w)["mediators"]
    assert row(rows, str(w["m1"].pk))["on_time_rate"] == 0.75
    assert row(rows, str(w["m1b"].pk))["on_time_rate"] == 0.0
    assert row(leader_view(w)["committees"], "T-K1")["on_time_rate"] == 0.6  # 3 of 5


def test_confirmation_rate_is_confirmed_over_agreements(world):
    w = world
    confirmed(w)
    d = requested(w)
    services.note_reason(dispute=d, actor=w["staff"], reason="协议内容违法", action="reject_confirmation")
    agreed(w)
    agreed(w)
    r = row(leader_view(w)["committees"], "T-K1")
    assert (r["confirmed"], r["agreements"], r["confirmation_rate"]) == (1, 4, 0.25)


def test_performance_rate_counts_only_agreements_whose_performance_is_known(world):
    w = world
    transition(agreed(w), "perform", w["m1"])  # performed without confirmation
    transition(confirmed(w), "perform", w["m1"])  # performed after confirmation
    services.note_reason(dispute=confirmed(w), actor=w["m1"], reason="拒不履行", action="enforce")
    services.note_reason(dispute=agreed(w), actor=w["m1"], reason="未履行", action="breach")
    agreed(w)  # not yet known
    r = row(leader_view(w)["committees"], "T-K1")
    assert (r["performed"], r["outcome_known"], r["agreements"]) == (2, 4, 5)
    assert r["performance_rate"] == 0.5
    assert r["confirmation_rate"] == 0.4  # 2 of 5 confirmed


def test_escalations_are_charged_to_whoever_held_the_dispute(world):
    w = world
    services.escalate(dispute=registered(w), actor=w["staff"], reason="双方聚众")  # before routing
    services.escalate(dispute=mediating(w), actor=w["m1"], reason="扬言报复")
    services.escalate(dispute=mediating(w, "k2", "m2"), actor=w["m2"], reason="持械")
    view = leader_view(w)
    assert row(view["centres"], "T-CENTRE")["escalations"] == 3
    assert row(view["committees"], "T-K1")["escalations"] == 1
    assert row(view["committees"], "T-K2")["escalations"] == 1
    assert row(view["mediators"], str(w["m1"].pk))["escalations"] == 1
    assert "" not in [r["key"] for r in view["committees"]]  # the unrouted one has no committee row


def test_local_rate_is_the_share_agreed_at_community_or_street_level(world):
    w = world
    agreed(w, "k1", "m1")  # community
    agreed(w, "k1", "m1")
    agreed(w, "k2", "m2")  # street
    agreed(w, "k3", "m3")  # district (the 物业 committee)
    view = leader_view(w)
    assert row(view["centres"], "T-CENTRE")["local_rate"] == 0.75
    assert row(view["committees"], "T-K3")["local_rate"] == 0.0
    assert row(view["committees"], "T-K2")["local_rate"] == 1.0


def test_names_not_codes(world):
    w = world
    agreed(w)
    view = leader_view(w)
    assert row(view["centres"], "T-CENTRE")["name"] == "汉阳区矛盾纠纷多元化解中心"
    assert row(view["committees"], "T-K1")["name"] == "翠微街团结社区人民调解委员会"
    assert row(view["mediators"], str(w["m1"].pk))["name"] == "调解员 甲"
    OrgUnit.objects.filter(code="T-K1").update(name_en="Tuanjie community mediation committee")
    with translation.override("en"):
        assert row(leader_view(w)["committees"], "T-K1")["name"] == "Tuanjie community mediation committee"


def test_rates_are_none_without_a_denominator(world):
    w = world
    services.escalate(dispute=registered(w), actor=w["staff"], reason="双方聚众")
    r = row(leader_view(w)["centres"], "T-CENTRE")
    assert r["success_rate"] is None and r["on_time_rate"] is None and r["performance_rate"] is None


def test_only_steps_in_the_period_count(world):
    w = world
    agreed(w)
    later = {"start": TODAY + timedelta(days=1), "end": TODAY + timedelta(days=30)}
    assert evaluation.evaluate(user=w["leader"], **later)["committees"] == []
    with pytest.raises(InvalidInput) as err:
        evaluation.evaluate(user=w["leader"], start=TODAY, end=TODAY - timedelta(days=1))
    assert err.value.code == "invalid_period"


def test_scope_a_mediator_sees_their_committee_and_themselves(world):
    w = world
    agreed(w, "k1", "m1")
    agreed(w, "k1", "m1b")
    agreed(w, "k2", "m2")
    view = evaluation.evaluate(user=w["m1"], **PERIOD)
    assert [r["key"] for r in view["committees"]] == ["T-K1"]
    assert row(view["committees"], "T-K1")["agreements"] == 2
    assert [r["key"] for r in view["mediators"]] == [str(w["m1"].pk)]
    assert view["centres"] == [] and view["campaigns"] == []


def test_scope_the_centres_staff_see_their_centre(world):
    w = world
    agreed(w, "k1", "m1")
    agreed(w, "k2", "m2")
    view = evaluation.evaluate(user=w["staff"], **PERIOD)
    assert [r["key"] for r in view["centres"]] == ["T-CENTRE"]
    assert {r["key"] for r in view["committees"]} == {"T-K1", "T-K2"}
    other = evaluation.evaluate(user=w["other_staff"], **PERIOD)
    assert other["centres"] == other["committees"] == other["mediators"] == []
    assert {r["key"] for r in leader_view(w)["committees"]} == {"T-K1", "T-K2"}


def test_scope_others_are_refused(world):
    with pytest.raises(Forbidden) as err:
        evaluation.evaluate(user=world["resident"], **PERIOD)
    assert err.value.code == "evaluation_not_allowed"


# --- campaigns -----------------------------------------------------------------------------------------------
def region(code, level, households=None, estimated=False):
    from cityops.geo.models import Region

    return Region.objects.create(code=code, name=code, level=level, geometry={}, min_lon=0, min_lat=0, max_lon=0,
                                 max_lat=0, centroid_lon=0, centroid_lat=0, area_km2=1, households=households,
                                 households_estimated=estimated)


def visit(campaign, user, place, *, region_code="429901001001", kind="household", outcome="nothing", case=None):
    return Visit.objects.create(campaign=campaign, visitor=user, client_id=uuid.uuid4(), place=place,
                                place_kind=kind, region_code=region_code, outcome=outcome, case=case)


def campaign_row(w, code):
    return row(leader_view(w)["campaigns"], code)


def test_campaign_coverage_and_yield(world, make_user):
    w = world
    # A district of its own (429901, not one of the demo city's: the session's Wuhan may be loaded).
    region("429901001", "street")  # no figure of its own: its communities' figures count
    region("429901001001", "community", households=120)
    region("429901001002", "community", households=80, estimated=True)
    region("429901002", "street", households=300)
    campaign = Campaign.objects.create(code="PC-T1", name="春季矛盾纠纷排查", starts_on=TODAY - timedelta(days=5),
                                       ends_on=TODAY + timedelta(days=5), region_codes=["429901001", "429901002"])
    worker = make_user("e_grid", roles.GRID_WORKER, region_codes=["420105"])
    visit(campaign, worker, "团结小区1栋101")
    visit(campaign, worker, "团结小区1栋101")  # the same household again
    visit(campaign, worker, "团结小区1栋102", outcome="dispute")
    visit(campaign, worker, "团结小区1栋103")
    visit(campaign, worker, "团结菜市场", kind="place")  # a place, not a household
    for _ in range(2):  # disputes registered with the campaign's tag
        d = registered(w)
        Dispute.objects.filter(pk=d.pk).update(campaign=campaign)
    r = campaign_row(w, "PC-T1")
    assert r["households"] == 500 and r["households_estimated"] is True  # 120 + 80 + 300
    assert r["households_visited"] == 3 and r["coverage"] == round(3 / 500, 4)
    assert r["visits"] == 5 and r["disputes_found"] == 2 and r["cases_found"] == 0
    assert r["yield_per_100"] == 40.0  # (2 disputes + 0 cases) × 100 / 5 visits


def test_campaign_without_visits_or_households(world):
    Campaign.objects.create(code="PC-T2", name="空行动", starts_on=TODAY, ends_on=TODAY, region_codes=["429999"])
    r = campaign_row(world, "PC-T2")
    assert r["coverage"] is None and r["households"] is None and r["yield_per_100"] is None


def test_leaders_see_the_campaigns_of_the_period(world):
    w = world
    Campaign.objects.create(code="PC-T3", name="秋季排查", starts_on=TODAY - timedelta(days=3), ends_on=TODAY,
                            region_codes=["420105"])
    Campaign.objects.create(code="PC-T4", name="去年排查", starts_on=date(2020, 1, 1), ends_on=date(2020, 2, 1),
                            region_codes=["420105"])
    assert [r["name"] for r in leader_view(w)["campaigns"]] == ["秋季排查"]
    assert [r["name"] for r in evaluation.evaluate(user=w["staff"], **PERIOD)["campaigns"]] == ["秋季排查"]
