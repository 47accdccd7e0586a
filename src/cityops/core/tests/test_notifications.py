"""Notifications (issue 13): each with its body, read or unread; one or all marked read, and the menu's counter goes
down with them (htmx: the row and the counter come back together); nobody marks another person's."""

import re

import pytest
from django.test import Client

from cityops.core.models import Notification
from cityops.core.notify import notify

pytestmark = pytest.mark.django_db


def client_for(user, **headers) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans", **headers)
    client.force_login(user)
    return client


def badge(html: str) -> str:
    """The menu's unread counter: its number, or "" when it is hidden."""
    match = re.search(r'<span id="unread-badge" class="badge"([^>]*)>(\d+)</span>', html)
    assert match, "no counter in the page"
    return "" if "hidden" in match.group(1) else match.group(2)


@pytest.fixture
def three(operator):
    return [notify(recipients=[operator], kind="test", title=f"新派遣案件 {i}", body=f"环境卫生 · 武昌区 第 {i} 件",
                   url="/cases/")[0] for i in range(3)]


def test_the_inbox_shows_bodies_and_which_are_unread(operator, three):
    Notification.objects.filter(pk=three[0].pk).update(read_at=three[0].created_at)
    html = client_for(operator).get("/inbox/").content.decode()
    assert "环境卫生 · 武昌区 第 2 件" in html
    assert html.count('class="note unread"') == 2 and html.count('class="note"') == 1
    assert badge(html) == "2"
    assert "2 条未读通知" in html


def test_marking_one_read_with_htmx_brings_the_row_and_a_lower_counter(operator, three):
    client = client_for(operator, HTTP_HX_REQUEST="true")
    response = client.post(f"/inbox/{three[1].pk}/read/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="note-{three[1].pk}"' in html and "unread" not in html.split("</li>")[0]
    assert 'hx-swap-oob="true"' in html and badge(html) == "2"
    assert Notification.objects.filter(recipient=operator, read_at__isnull=True).count() == 2
    assert badge(client_for(operator).get("/").content.decode()) == "2"


def test_marking_all_read_empties_the_counter(operator, three):
    response = client_for(operator).post("/inbox/read/")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert not Notification.objects.filter(recipient=operator, read_at__isnull=True).exists()
    html = client_for(operator).get("/inbox/").content.decode()
    assert badge(html) == "" and "没有未读通知" in html


def test_opening_a_notification_reads_it_and_follows_its_link(operator, three):
    response = client_for(operator).get(f"/inbox/{three[2].pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/cases/"
    three[2].refresh_from_db()
    assert three[2].read_at is not None


def test_nobody_reads_another_persons_notification(operator, dispatcher, three):
    assert client_for(dispatcher).post(f"/inbox/{three[0].pk}/read/", HTTP_HX_REQUEST="true").status_code == 404
    assert client_for(dispatcher).get(f"/inbox/{three[0].pk}/open/").status_code == 404
    client_for(dispatcher).post("/inbox/read/")
    assert Notification.objects.filter(recipient=operator, read_at__isnull=True).count() == 3


def test_marking_read_takes_a_post(operator, three):
    assert client_for(operator).get(f"/inbox/{three[0].pk}/read/").status_code == 405
