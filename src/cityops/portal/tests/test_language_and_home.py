"""The portal speaks one language at a time (issue 13): a refusal in the page's language only, not both."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def refusal(language: str) -> str:
    response = Client(HTTP_ACCEPT_LANGUAGE=language).post(
        "/portal/report/", {"category": "C0101", "description": "没有位置"})
    assert response.status_code == 400
    html = response.content.decode()
    return re.sub(r"<[^>]+>", "", re.search(r'<p class="msg-error"[^>]*id="portal-error">.*?</p>', html, re.S).group(0))


def test_a_refusal_is_in_the_pages_language_only(city):
    chinese = refusal("zh-hans")
    assert "请提供坐标或地址" in chinese and "Give either" not in chinese
    english = refusal("en")
    assert "Give either lon/lat or an address" in english and "请提供坐标或地址" not in english
