"""Names, never codes or logins (issue 13), on the case page: the timeline's dispatch names the departments
("→ 环境卫生管理处", not "→ HW"), people by display name; the category by name; a consultation's decisions by
department name."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_the_timeline_names_departments_and_people(new_case, walk, dispatcher, operator):
    operator.first_name = "受理员 王敏"
    operator.save()
    case = walk(new_case(), "dispatched")
    html = client_for(dispatcher).get(f"/cases/{case.code}/").content.decode()
    timeline = re.search(r'<section class="card" id="timeline">.*?</section>', html, re.S).group(0)
    assert "→ 环境卫生管理处" in timeline, timeline
    assert "→ HW" not in timeline
    assert "受理员 王敏" in timeline and "t_operator" not in timeline
    category = re.search(r'<dd id="case-category">(.*?)</dd>', html).group(1)
    assert category == case.category.name_zh


def test_a_consultations_decisions_name_the_departments(new_case, walk, dispatcher):
    from django.utils import timezone

    from cityops.cases.services import consultation_record

    case = walk(new_case(), "accepted")
    consultation_record(case=case, actor=dispatcher, meeting_at=timezone.now(), topic="联办", participants=["HW", "CG"],
                 decisions=[{"department": "CG", "text": "修复路面", "limit_hours": 8}])
    html = client_for(dispatcher).get(f"/cases/{case.code}/").content.decode()
    decisions = re.search(r'<div class="consultation">.*?</div>', html, re.S).group(0)
    assert "<li>城市管理执法局：修复路面" in decisions, decisions
    assert "<li>CG：" not in decisions
