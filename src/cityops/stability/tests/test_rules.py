"""The rules of RULES.md §3 as guards: each refusal is coded, bilingual, and writes nothing."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from cityops.core.errors import CityopsError
from cityops.core.timeline import timeline_for
from cityops.core.workflow import transition
from cityops.stability import services
from cityops.stability.models import Decision

pytestmark = pytest.mark.django_db


def refused(fn, **kw) -> CityopsError:
    with pytest.raises(CityopsError) as info:
        fn(**kw)
    assert info.value.message and info.value.message_en and info.value.message != info.value.message_en
    return info.value


def test_high_risk_may_only_be_not_implemented(walk, decider, clock):
    d = walk("legality_review", level="high")
    clock(timezone.now() + timedelta(days=20))
    for outcome in ("implement", "implement_with_measures", "revise"):
        err = refused(services.decision_decide, decision=d, actor=decider, outcome=outcome)
        assert err.code == "high_risk_not_implemented" and err.status == 409
    d = services.decision_decide(decision=d, actor=decider, outcome="do_not_implement", note="风险过高")
    assert (d.state, d.outcome) == ("decided", "do_not_implement")


def test_medium_risk_is_revised_or_mitigated_first(walk, decider, assessor, clock):
    d = walk("legality_review", level="medium", mitigated=False)
    clock(timezone.now() + timedelta(days=20))
    err = refused(services.decision_decide, decision=d, actor=decider, outcome="implement")
    assert err.code == "medium_risk_needs_measures"
    for outcome in ("revise", "implement_with_measures"):
        err = refused(services.decision_decide, decision=d, actor=decider, outcome=outcome)
        assert err.code == "mitigation_required"
    assert Decision.objects.get(pk=d.pk).state == "legality_review"
    risk = d.risks.get(dimension="controllability")  # 3×4 = 12: medium, no mitigation yet
    services.risk_update(risk=risk, actor=assessor, mitigation="设立现场接待点，一户一策")
    d = services.decision_decide(decision=d, actor=decider, outcome="implement_with_measures")
    assert d.outcome == "implement_with_measures"


def test_low_risk_may_be_implemented(walk, decider):
    d = walk("decided", level="low", outcome="implement")
    assert d.outcome == "implement"


def test_comment_period_shorter_than_30_days_is_refused_and_nothing_written(walk, assessor):
    d = walk("risks_identified")
    entries = timeline_for(d).count()
    err = refused(services.decision_open_consultation, decision=d, actor=assessor,
                  ends_on=timezone.localdate() + timedelta(days=29))
    assert err.code == "comment_period_too_short" and err.status == 400
    stored = Decision.objects.get(pk=d.pk)
    assert (stored.state, stored.consultation_ends_on, stored.consultation_opened_at) == ("risks_identified", None, None)
    assert timeline_for(d).count() == entries
    d = services.decision_open_consultation(decision=d, actor=assessor, ends_on=timezone.localdate() + timedelta(days=30))
    assert d.state == "consultation" and d.deadline_at is not None


def test_consultation_closed_early_is_refused(walk, assessor, clock):
    d = walk("consultation")
    opened = timezone.now()
    clock(opened + timedelta(days=30))  # the last day itself: the period runs to its end
    err = refused(services.decision_assess, decision=d, actor=assessor, level="low", summary="无")
    assert err.code == "too_early"
    clock(opened + timedelta(days=31))
    assert services.decision_assess(decision=d, actor=assessor, level="low", summary="风险可控").state == "assessed"


def test_legality_review_closed_early_is_refused_working_days_counted(walk, decider, clock):
    # Review opened Wednesday 2026-09-30 09:00; 国庆/中秋 2026: 10-01..10-07 off, Saturday 10-10 a make-up workday.
    d = walk("assessed", start=datetime(2026, 8, 27, 9, 0))
    clock(datetime(2026, 9, 30, 9, 0))
    d = services.decision_submit_review(decision=d, actor=decider.__class__.objects.get(username="t_st_assessor"))
    for when in (datetime(2026, 10, 8, 17, 0), datetime(2026, 10, 9, 17, 0)):
        clock(when)
        err = refused(services.decision_decide, decision=d, actor=decider, outcome="implement")
        assert err.code == "too_early"
    assert Decision.objects.get(pk=d.pk).state == "legality_review"
    # 9-30, 10-08, 10-09, 10-10 (make-up), 10-12, 10-13, 10-14: 7 working days end 10-15 09:00... counted in hours:
    clock(datetime(2026, 10, 15, 8, 59))
    assert refused(services.decision_decide, decision=d, actor=decider, outcome="implement").code == "too_early"
    clock(datetime(2026, 10, 15, 9, 0))
    assert services.decision_decide(decision=d, actor=decider, outcome="implement").state == "decided"


def test_monitoring_only_when_implemented(walk, assessor):
    d = walk("published", level="high", outcome="do_not_implement")
    err = refused(transition, obj=d, action="start_monitoring", actor=assessor)
    assert err.code == "not_implemented"
    assert transition(d, "close", assessor).state == "closed"


def test_identify_risks_needs_a_register(new_decision, assessor):
    d = services.decision_scope(decision=new_decision(), actor=assessor, scope="范围")
    assert refused(transition, obj=d, action="identify_risks", actor=assessor).code == "no_risks"


def test_staff_of_another_unit_cannot_act(walk, other_staff, proposer):
    d = walk("risks_identified")
    err = refused(services.decision_open_consultation, decision=d, actor=other_staff,
                  ends_on=timezone.localdate() + timedelta(days=40))
    assert err.code == "role_not_allowed" and err.status == 403
    err = refused(services.risk_add, decision=d, actor=other_staff, dimension="security", description="x",
                  likelihood=1, impact=1)
    assert err.code == "not_assessor"
    err = refused(services.decision_create, actor=other_staff, title="t", description="d", proposing_unit="ST-ZSB",
                  assessing_unit="ST-WPB", region_code="420105")
    assert (err.code, err.status) == ("not_proposer", 403)
    # the proposing unit neither assesses its own decision
    assert refused(services.risk_add, decision=d, actor=proposer, dimension="security", description="x",
                   likelihood=1, impact=1).code == "not_assessor"


def test_risk_register_changes_are_on_the_timeline(walk, assessor):
    d = walk("risks_identified")
    risk = services.risk_add(decision=d, actor=assessor, dimension="security", description="施工期间交通安全",
                             likelihood=4, impact=4)
    assert (risk.score, risk.level) == (16, "high")
    services.risk_update(risk=risk, actor=assessor, likelihood=2, mitigation="交通疏导方案")
    entries = list(timeline_for(d).filter(action__in=("risk_add", "risk_update")).values_list("action", "params"))
    last = entries[-1][1]
    assert last["changes"] == {"likelihood": [4, 2], "mitigation": ["", "交通疏导方案"]} and last["score"] == 8
    with pytest.raises(CityopsError) as info:
        services.risk_add(decision=d, actor=assessor, dimension="security", description="x", likelihood=6, impact=1)
    assert info.value.code == "invalid_likelihood"
    with pytest.raises(CityopsError) as info:
        services.risk_add(decision=d, actor=assessor, dimension="weather", description="x", likelihood=1, impact=1)
    assert info.value.code == "unknown_dimension"


def test_decision_input_is_checked(area_regions, units, proposer):
    base = {"title": "公交线路调整", "description": "调整 5 条线路", "proposing_unit": "ST-ZSB", "assessing_unit": "ST-WPB",
            "region_code": "420105"}
    for change, code in (({"region_code": "999999"}, "unknown_region"), ({"assessing_unit": "NOPE"}, "unknown_unit"),
                         ({"title": "  "}, "title_required"),
                         ({"area": {"type": "Point", "coordinates": [114.2, 30.5]}}, "invalid_geojson"),
                         ({"area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},
                          "invalid_geojson"),
                         ({"area": "{not json"}, "invalid_geojson")):
        with pytest.raises(CityopsError) as info:
            services.decision_create(actor=proposer, **{**base, **change})
        assert info.value.code == code, change
    assert not Decision.objects.exists()
    d = services.decision_create(actor=proposer, **base, area={"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[114.2, 30.5], [114.3, 30.5], [114.3, 30.6], [114.2, 30.5]]]}})
    assert d.area["type"] == "Polygon" and d.state == "proposed"
