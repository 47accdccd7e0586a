"""`cityops simulate` produces disputes (simulation.py through the DisputesConfig's simulate hook): new disputes
from every channel at the demo's centre, routed by the rules and mediated with delays on the simulated clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from cityops.cases.simulation import Simulation
from cityops.core.models import TimelineEntry
from cityops.disputes import demo
from cityops.disputes.models import Campaign, Dispute, Visit

pytestmark = pytest.mark.slow
START = timezone.make_aware(datetime(2026, 11, 23, 8, 0))  # a Monday morning: four working days follow
HOURS = 96


@pytest.fixture
def city(wuhan, settings, tmp_path):
    from cityops.accounts.demo import load_demo_users, load_departments, load_district_units, load_roles
    from cityops.cases.demo import load_categories

    settings.DATA_DIR = tmp_path  # signature scans (private files) go to the test's own folder
    load_roles()
    load_departments()
    load_categories()
    load_district_units()
    load_demo_users()
    demo.load_demo()
    demo.load_demo_users()


def test_simulate_produces_dispute_traffic(city):
    before = set(Dispute.objects.values_list("pk", flat=True))
    stats = Simulation(hours=HOURS, rate=2, seed=5, start=START).run()
    made = Dispute.objects.exclude(pk__in=before)
    # Registered at the centre and through its channels, or found on a door-knocking visit (below).
    assert stats["disputes:registered"] + stats["disputes:screening_found"] == made.count()
    assert stats["disputes:registered"] >= 15
    for step in ("accepted", "assigned", "mediating", "agreed", "confirmation_requested"):
        assert stats[f"disputes:{step}"] > 0, step
    assert not [k for k in stats if k.startswith("refused:") and stats[k] > 3], stats
    assert not stats["refused:agreement_unsigned"]  # the parties sign before confirmation is requested
    assert len(set(made.values_list("source", flat=True))) >= 4
    assert len(set(made.values_list("state", flat=True))) >= 4
    assert all(d.centre and d.centre.code == demo.CENTRE_CODE and d.region_code.startswith("420105") for d in made)
    # Routed by the rules: every accepted property dispute went to the 物业 committee, labour to 劳动争议.
    routed = made.exclude(committee=None)
    for d in routed.filter(kind="property", entrustment=""):
        assert d.committee.name == "汉阳区物业纠纷人民调解委员会"
    for d in routed.filter(kind="labour", entrustment=""):
        assert d.committee.name == "汉阳区劳动争议调解委员会"
    # A screening campaign over the centre's district, the grid worker's door-knocking visits through it, and
    # what they found entering intake with the campaign's tag.
    campaign = Campaign.objects.get(name__endswith="矛盾纠纷排查化解行动（模拟）")
    assert campaign.region_codes == ["420105"] and stats["disputes:campaign_opened"] == 1
    visits = Visit.objects.filter(campaign=campaign)
    assert visits.count() == stats["disputes:visits"] >= 100  # about two an hour for four days
    assert all(START <= v.visited_at <= START + timedelta(hours=HOURS) for v in visits)
    found = made.filter(campaign=campaign)
    assert found.count() == visits.filter(outcome="dispute").count() == stats["disputes:screening_found"] > 0
    assert set(found.values_list("source", flat=True)) == {"screening"}
    # Everything happened inside the simulated window, each dispute's steps in order.
    entries = TimelineEntry.objects.filter(subject_type="disputes.dispute",
                                           subject_id__in=[str(pk) for pk in made.values_list("pk", flat=True)])
    assert entries.exists()
    assert all(START <= e.at <= START + timedelta(hours=HOURS) for e in entries)
    last = {}
    for e in entries.order_by("subject_id", "seq"):
        assert e.at >= last.get(e.subject_id, e.at)
        last[e.subject_id] = e.at


def test_no_centre_no_dispute_traffic(wuhan):
    from cityops.accounts.demo import load_departments, load_roles
    from cityops.cases.demo import load_categories

    load_roles()
    load_departments()
    load_categories()
    stats = Simulation(hours=6, rate=2, seed=1, start=START).run()
    assert not [k for k in stats if k.startswith("disputes:")]
    assert not Dispute.objects.exists()
