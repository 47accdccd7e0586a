"""The demo (core.demo): a decision under consultation and one under monitoring in 汉阳区, twice loaded once."""

import io

import pytest
from django.apps import apps

from cityops.core.audit import audit_verify
from cityops.stability.demo import CONSULTING, MONITORED
from cityops.stability.models import Decision

pytestmark = pytest.mark.django_db


def test_demo_decisions(wuhan, make_user):
    from cityops.accounts.demo import load_roles

    load_roles()
    make_user("resident", "resident", first_name="市民 赵磊")
    config = apps.get_app_config("stability")
    config.load_demo(io.StringIO())
    assert config.load_demo_users(io.StringIO()) == "2 decisions"
    assert config.load_demo_users(io.StringIO()) is None  # nothing twice
    consulting, monitored = Decision.objects.get(title=CONSULTING), Decision.objects.get(title=MONITORED)
    assert consulting.state == "consultation" and consulting.region_code.startswith("420105")
    assert consulting.risks.count() == 5 and consulting.comments.count() == 2 and consulting.visits.count() == 1
    assert (consulting.consultation_ends_on - consulting.consultation_opened_at.date()).days >= 30
    assert monitored.state == "monitoring" and monitored.outcome == "implement_with_measures" and monitored.published_at
    assert audit_verify(subject_type="stability.decision")[1] == []
    assert set(config.demo_usernames()) == {"stability_hy", "expropriation_hy", "transport_hy"}


def test_simulation_comments_on_the_decision_in_consultation(wuhan, make_user):
    """`cityops simulate` (cases.simulation) also brings residents' comments, moderated by the assessing staff."""
    from cityops.accounts.demo import load_departments, load_roles
    from cityops.cases.demo import load_categories
    from cityops.cases.simulation import simulate

    load_roles()
    load_departments()
    load_categories()
    config = apps.get_app_config("stability")
    config.load_demo(io.StringIO())
    config.load_demo_users(io.StringIO())
    consulting = Decision.objects.get(title=CONSULTING)
    before = consulting.comments.count()
    stats = simulate(hours=48, rate=0.3, seed=3)
    assert stats["stability:comments"] > 0 and consulting.comments.count() == before + stats["stability:comments"]
    assert consulting.comments.filter(status="approved").count() >= 1
    assert audit_verify(subject_type="stability.decision")[1] == []
