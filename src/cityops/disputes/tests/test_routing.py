"""Routing (routing.py): the channel, committee and mediator offered to the centre's staff — 属地 first, the
specialised committees for their types, court-entrusted disputes to court-invited mediation, the least loaded."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from cityops.accounts.models import OrgUnit
from cityops.core import roles
from cityops.core.workflow import create_with_timeline
from cityops.disputes import routing
from cityops.disputes.models import CommitteeRemit, Dispute, Party

pytestmark = pytest.mark.django_db
_codes = itertools.count(1)

COMMUNITY = "420105001001"  # 翠微街 · a community
GRID = COMMUNITY + "01"


def committee(code, region, *, channel=None, kinds=(), active=True, name=None):
    unit = OrgUnit.objects.create(code=code, name=name or f"{code}调解委员会", kind=OrgUnit.Kind.COMMITTEE,
                                  region_code=region, active=active)
    if channel:
        CommitteeRemit.objects.create(committee=unit, channel=channel, kinds=list(kinds))
    return OrgUnit.objects.get(pk=unit.pk)


def dispute(kind="neighbour", region=GRID, *, state=None, committee=None, mediator=None, **extra):
    d = create_with_timeline(Dispute(code=f"T{next(_codes):06d}", title="测试纠纷", description="测试",
                                     kind=kind, source=extra.pop("source", "walk_in"), region_code=region, **extra),
                             actor=None)
    if state or committee or mediator:
        Dispute.objects.filter(pk=d.pk).update(state=state or d.state, committee=committee, mediator=mediator)
    return Dispute.objects.get(pk=d.pk)


def load(unit, n, state="mediating", mediator=None):
    for _ in range(n):
        dispute(committee=unit, state=state, mediator=mediator)


@pytest.fixture
def hanyang(db):
    """A community committee, two street committees, a district 物业 committee and a court-invited studio."""
    return {
        "community": committee("TJ-C1", COMMUNITY),
        "street": committee("TJ-S1", "420105001"),
        "street2": committee("TJ-S2", "420105002"),
        "district": committee("TJ-D", "420105"),
        "property": committee("TJ-WY", "420105", channel="industry", kinds=["property"]),
        "court": committee("TJ-FY", "420105", channel="court_invited"),
    }


def test_people_mediation_goes_to_the_most_local_committee(hanyang):
    s = routing.suggest(dispute("neighbour", GRID))
    assert (s.channel, s.committee) == ("people", hanyang["community"])
    # A community without a committee of its own: its street's committee, not the district's.
    s = routing.suggest(dispute("family", "42010500200301"))
    assert (s.channel, s.committee) == ("people", hanyang["street2"])
    # A street without one: the district's people's committee — never a specialised or court-invited one.
    s = routing.suggest(dispute("family", "42010500900101"))
    assert (s.channel, s.committee) == ("people", hanyang["district"])
    assert s.reasons and all(r.zh and r.en for r in s.reasons)


def test_a_committee_of_another_region_never_covers(hanyang):
    s = routing.suggest(dispute("neighbour", "42010600100101"))  # 武昌区: nothing of 汉阳区 covers it
    assert s.committee is None and s.mediator is None
    assert any("choose one by hand" in r.en for r in s.reasons)


def test_least_loaded_among_committees_of_the_same_level(hanyang):
    twin = committee("TJ-C1B", COMMUNITY)
    load(hanyang["community"], 2)
    load(twin, 1)
    load(twin, 3, state="closed")  # closed, referred, refused … are no load
    load(twin, 2, state="referred")
    assert routing.suggest(dispute()).committee == twin
    load(twin, 1, state="agreed")  # an agreement not yet performed is still open work
    assert routing.suggest(dispute()).committee == hanyang["community"]  # 2 each: the code decides


def test_inactive_committee_is_not_offered(hanyang):
    OrgUnit.objects.filter(pk=hanyang["community"].pk).update(active=False)
    assert routing.suggest(dispute()).committee == hanyang["street"]


@pytest.mark.parametrize("kind", ["property", "labour", "medical", "traffic"])
def test_specialised_types_go_to_their_industry_committee(hanyang, kind):
    own = {"property": hanyang["property"],
           "labour": committee("TJ-LD", "420105", channel="industry", kinds=["labour"]),
           "medical": committee("TJ-YL", "", channel="industry", kinds=["medical"]),  # city-wide
           "traffic": committee("TJ-JT", "420105", channel="industry", kinds=["traffic"])}[kind]
    s = routing.suggest(dispute(kind, GRID))
    assert (s.channel, s.committee) == ("industry", own)
    assert any(own.name in r.zh for r in s.reasons)


def test_specialised_type_without_a_committee_covering_goes_to_people_mediation(hanyang):
    committee("TJ-WY-WC", "420106", channel="industry", kinds=["property"])  # 武昌区's, not 汉阳区's
    s = routing.suggest(dispute("medical", GRID))
    assert (s.channel, s.committee) == ("people", hanyang["community"])
    assert any("No specialised committee" in r.en for r in s.reasons)
    # A property dispute in 武昌区 goes to 武昌区's 物业 committee, not 汉阳区's.
    assert routing.suggest(dispute("property", "42010600100101")).committee.code == "TJ-WY-WC"


def test_an_administrative_committee_takes_the_types_it_lists(hanyang):
    consumer = committee("TJ-XF", "420105", channel="administrative", kinds=["consumer"])
    assert routing.suggest(dispute("consumer")).committee == consumer
    assert routing.suggest(dispute("consumer")).channel == "administrative"
    assert routing.suggest(dispute("neighbour")).committee == hanyang["community"]


def test_court_entrusted_goes_to_court_invited_mediation(hanyang):
    for d in (dispute("property", entrustment="court_15"), dispute("neighbour", source="court")):
        s = routing.suggest(d)
        assert (s.channel, s.committee) == ("court_invited", hanyang["court"])


def test_court_entrusted_without_a_court_invited_committee_goes_to_the_local_one(hanyang):
    OrgUnit.objects.filter(pk=hanyang["court"].pk).update(active=False)
    s = routing.suggest(dispute("neighbour", entrustment="court_7"))
    assert (s.channel, s.committee) == ("court_invited", hanyang["community"])
    assert any("No court-invited committee" in r.en for r in s.reasons)


def test_a_dispute_without_location_is_routed_in_its_centres_region(hanyang):
    centre = OrgUnit.objects.create(code="TJ-CENTRE", name="汉阳区矛盾纠纷多元化解中心", kind="centre",
                                    region_code="420105")
    s = routing.suggest(dispute("neighbour", "", centre=centre))
    assert s.committee == hanyang["district"]
    assert any("no location" in r.en for r in s.reasons)


def test_least_loaded_mediator_of_the_committee(hanyang, make_user):
    unit = hanyang["community"]
    busy = make_user("m_busy", roles.MEDIATOR, org_units=[unit.code])
    free = make_user("m_free", roles.MEDIATOR, org_units=[unit.code])
    make_user("m_other", roles.MEDIATOR, org_units=[hanyang["street"].code])  # another committee's
    make_user("c_staff", roles.CENTRE_STAFF, org_units=[unit.code])  # a member who is no mediator
    load(unit, 2, mediator=busy)
    load(unit, 4, state="closed", mediator=free)
    assert routing.suggest_mediator(unit) == free
    s = routing.suggest(dispute())
    assert s.mediator == free and any("m_free" in r.zh for r in s.reasons)
    free.is_active = False
    free.save()
    assert routing.suggest_mediator(unit) == busy


def test_a_mediator_never_mediates_their_own_dispute(hanyang, make_user):
    unit = hanyang["community"]
    mine = make_user("m_party", roles.MEDIATOR, org_units=[unit.code])
    other = make_user("m_second", roles.MEDIATOR, org_units=[unit.code])
    load(unit, 1, mediator=other)
    d = dispute()
    Party.objects.create(dispute=d, side="respondent", name="当事人", user=mine)
    assert routing.suggest_mediator(unit) == mine
    assert routing.suggest_mediator(unit, d) == other
    d2 = dispute(applicant=other)
    Party.objects.create(dispute=d2, side="respondent", name="当事人", user=mine)
    assert routing.suggest_mediator(unit, d2) is None
    assert routing.suggest_mediator(hanyang["street2"]) is None


def test_suggest_is_two_queries_however_many_disputes(hanyang, make_user):
    for unit in hanyang.values():
        make_user(f"m_{unit.code}", roles.MEDIATOR, org_units=[unit.code])
        load(unit, 3)
    d = dispute()
    with CaptureQueriesContext(connection) as queries:
        s = routing.suggest(d)
    assert s.committee == hanyang["community"] and s.mediator is not None
    assert len(queries) <= 2, [q["sql"] for q in queries]


def test_reasons_read_in_the_pages_language_and_as_json(hanyang):
    s = routing.suggest(dispute())
    with translation.override("en"):
        assert str(s.reasons[0]) == s.reasons[0].en
    assert str(s.reasons[0]) == s.reasons[0].zh
    data = s.as_dict()
    assert data["committee_id"] == hanyang["community"].pk and data["channel"] == "people"
    assert data["committee_name"] == hanyang["community"].name
    assert data["reasons"][0] == {"zh": s.reasons[0].zh, "en": s.reasons[0].en}


def test_level_of_the_committee(hanyang):
    assert routing.level_of(hanyang["community"]) == "community"
    assert routing.level_of(hanyang["street"]) == "street"
    assert routing.level_of(hanyang["property"]) == "district"
    assert routing.level_of(None) == ""
