"""Home cards (core.home via the AppConfig): the assessing and proposing units see their open decisions, leaders
every open assessment, the others nothing."""

import pytest
from django.apps import apps

pytestmark = pytest.mark.django_db


def cards(user):
    return apps.get_app_config("stability").home_cards(user)


def test_home_cards(walk, assessor, decider, other_staff, resident, leader, client):
    walk("consultation")
    (card,) = cards(assessor)
    assert card.count == 1 and card.url == "/stability/"
    assert cards(decider)[0].count == 1
    assert cards(other_staff) == [] and cards(resident) == []
    assert cards(leader)[0].count == 1
    client.force_login(assessor)
    assert "稳评待办" in client.get("/").content.decode()


def test_the_menu_leads_here(client, resident, leader, assessor, units):
    client.force_login(resident)
    assert 'href="/stability/public/"' in client.get("/portal/").content.decode()
    for user in (leader, assessor):
        client.force_login(user)
        assert 'href="/stability/"' in client.get("/").content.decode()
