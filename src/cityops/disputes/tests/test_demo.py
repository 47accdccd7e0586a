"""The demo's dispute resolution (demo.py): 汉阳区矛盾纠纷多元化解中心, its committees, the demo logins, the referring
bodies, disputes in various states and a screening campaign — and a second load changes nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cityops.accounts.models import OrgUnit, User
from cityops.core import roles
from cityops.core.demo import demo_usernames
from cityops.disputes import demo, routing
from cityops.disputes.models import Campaign, CommitteeRemit, Dispute, Referrer, Visit


@pytest.fixture
def loaded(wuhan, settings, tmp_path):
    from cityops.accounts.demo import load_demo_users as accounts_users
    from cityops.accounts.demo import load_departments, load_roles

    settings.DEMO_PASSWORD = "demo-pw-test"
    settings.DATA_DIR = tmp_path  # signature scans (private files) go to the test's own folder
    load_roles()
    load_departments()
    accounts_users()
    demo.load_demo()
    return demo.load_demo_users()


def test_the_centre_and_its_committees(loaded):
    centre = OrgUnit.objects.get(code=demo.CENTRE_CODE)
    assert (centre.name, centre.kind, centre.region_code) == ("汉阳区矛盾纠纷多元化解中心", "centre", "420105")
    streets = demo._streets()
    assert len(streets) == 12
    committees = OrgUnit.objects.filter(kind="committee", parent=centre)
    for street in streets:  # a people's committee in every street, named after it
        unit = committees.get(region_code=street.code)
        assert unit.name.endswith("人民调解委员会") and "办事处" not in unit.name
    assert committees.filter(region_code__regex=r"^\d{12}$").count() == demo.COMMUNITY_COMMITTEES
    kinds = {tuple(r.kinds): r.channel for r in CommitteeRemit.objects.filter(committee__parent=centre)}
    for kind in ("property", "labour", "medical", "traffic"):
        assert kinds[(kind,)] == "industry"
    assert "court_invited" in kinds.values()


def test_the_demo_logins_sign_in_and_hold_their_roles(loaded):
    for username in demo.DEMO_USERS:
        assert User.objects.get(username=username).check_password("demo-pw-test"), username
    assert User.objects.get(username="centre_hy").has_role(roles.CENTRE_STAFF)
    assert User.objects.get(username="police_hy").has_role(roles.POLICE_LIAISON)
    mediator = User.objects.get(username="mediator_hy")
    assert [u.name for u in mediator.org_units.all()] == ["翠微街人民调解委员会"]
    # Every committee has someone to assign; the roster mediators cannot sign in.
    for unit in OrgUnit.objects.filter(kind="committee", parent__code=demo.CENTRE_CODE):
        assert routing.suggest_mediator(unit) is not None, unit.name
    assert not User.objects.get(username__startswith="tj_tw-420105-yl").has_usable_password()
    # Production refuses to start while a demo login keeps the demo password: they are all listed.
    assert set(demo.DEMO_USERS) <= set(demo_usernames())


def test_the_referring_bodies(loaded):
    names = dict(Referrer.objects.values_list("code", "name"))
    assert names == {"HY-COURT": "汉阳区人民法院", "HY-POLICE": "汉阳公安分局", "HY-PETITION": "汉阳区信访局"}
    for referrer in Referrer.objects.all():
        assert referrer.user.has_role(roles.REFERRER) and not referrer.user.has_usable_password()
        assert referrer.centre.code == demo.CENTRE_CODE


def test_disputes_in_various_states_routed_by_the_rules(loaded):
    disputes = Dispute.objects.filter(centre__code=demo.CENTRE_CODE)
    states = set(disputes.values_list("state", flat=True))
    assert {"registered", "accepted", "mediating", "agreed", "confirmed", "closed", "terminated",
            "escalated"} <= states
    assert set(disputes.values_list("source", flat=True)) >= {"walk_in", "hotline", "portal", "court", "police",
                                                              "petition", "screening"}
    assert disputes.get(kind="property", source="portal").committee.name == "汉阳区物业纠纷人民调解委员会"
    assert disputes.get(kind="labour").mediator.username == "mediator_ld"
    neighbour = disputes.filter(kind="neighbour", mediator__isnull=False)
    assert set(neighbour.values_list("mediator__username", flat=True)) <= {"mediator_hy", "mediator_hy2"}
    assert disputes.filter(state="escalated").get().risk_level == "high"


def test_the_campaign_and_its_visits(loaded):
    campaign = Campaign.objects.get(name__startswith="汉阳区矛盾纠纷排查化解专项行动")
    streets = [s.code for s in demo._streets()[:2]]
    assert campaign.region_codes == streets
    visits = Visit.objects.filter(campaign=campaign)
    assert visits.count() == len(demo.VISITS)
    # Spread over days and communities (the campaign page's daily counts and its map).
    assert len({timezone.localdate(v.visited_at) for v in visits}) >= 3
    assert len(set(visits.values_list("region_code", flat=True))) >= 3
    found = Dispute.objects.get(campaign=campaign)
    assert found.source == "screening"
    from cityops.disputes.campaigns import campaign_figures

    figures = campaign_figures(campaign)
    assert figures.households and figures.households_estimated and figures.coverage > 0


def test_a_second_load_changes_nothing(loaded):
    counts = (OrgUnit.objects.count(), User.objects.count(), Dispute.objects.count(), Visit.objects.count(),
              Campaign.objects.count(), Referrer.objects.count())
    demo.load_demo()
    demo.load_demo_users()
    assert counts == (OrgUnit.objects.count(), User.objects.count(), Dispute.objects.count(), Visit.objects.count(),
                      Campaign.objects.count(), Referrer.objects.count())
