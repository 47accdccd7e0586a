"""The call screen says what it is doing and where the work order went (issue 13): the success message links the
case; the suggestion panel names categories and departments, never codes; the classifier is loaded at start (a
warm-up in the web worker), so the first suggestion does not wait for it."""

import re

import pytest

pytestmark = pytest.mark.django_db

CALL = {"text": "喂你好，光谷广场这边下大雨积水好深，车子都熄火了", "address": "光谷广场", "caller_phone": "13900002222"}


def test_the_success_message_links_the_work_order(wuhan, model, operator, client):
    from cityops.hotline.models import HotlineCall

    client.force_login(operator)
    response = client.post("/hotline/accept/", {**CALL, "category": "E0501", "kind": "urgent"}, follow=True)
    code = HotlineCall.objects.get().case_code
    html = response.content.decode()
    messages = re.search(r'<ul class="messages">.*?</ul>', html, re.S).group(0)
    assert f'<a href="/cases/{code}/" id="accepted-case">{code}</a>' in messages


def test_a_refusal_is_in_the_pages_language_only(wuhan, model, operator, client):
    client.force_login(operator)
    html = client.post("/hotline/accept/", {"text": "", "category": "E0101", "kind": "complaint"}).content.decode()
    messages = re.search(r'<ul class="messages">.*?</ul>', html, re.S).group(0)
    shown = re.sub(r"<[^>]+>", "", messages)
    assert shown and " / " not in shown and re.search(r"[A-Za-z]", shown) is None, shown


def test_suggestions_name_categories_and_departments(wuhan, model, operator, client):
    client.force_login(operator)
    html = client.post("/hotline/suggest/", CALL, HTTP_HX_REQUEST="true").content.decode()
    labels = re.findall(r'<label class="hl-cand">.*?</label>', html, re.S)
    assert labels and "道路积水" in html
    shown = re.sub(r"<[^>]+>", " ", " ".join(labels[:-1]))  # the last one is the "other code" field
    assert "E0501" not in shown and not re.search(r"\b[A-Z]{2}\b", shown), shown


def test_warm_up_loads_the_classifier_so_the_first_suggestion_does_not(wuhan, model, monkeypatch):
    from django.apps import apps

    from cityops.hotline import classifier

    classifier.forget()
    loads = []
    real_read = classifier._read
    monkeypatch.setattr(classifier, "_read", lambda path: loads.append(path) or real_read(path))
    apps.get_app_config("hotline").warm_up()
    assert len(loads) == 1 and classifier._holder.model is not None
    from cityops.hotline.selectors import suggest

    suggest(text="路灯不亮了", address="江岸区")
    assert len(loads) == 1  # the first suggestion after the warm-up read nothing


def test_serve_warms_every_app_up_in_the_worker(monkeypatch):
    """`cityops serve` gives gunicorn an application whose load() (run in each worker before it serves) calls
    every AppConfig.warm_up."""
    from django.apps import apps

    from cityops.core.management.commands import serve

    called = []
    monkeypatch.setattr(apps.get_app_config("hotline"), "warm_up", lambda: called.append("hotline"), raising=False)
    captured = {}

    class FakeApp:
        def __init__(self):
            captured["app"] = self

    import gunicorn.app.base

    def run(self):
        captured["wsgi"] = self.load()

    monkeypatch.setattr(gunicorn.app.base.BaseApplication, "run", run)
    monkeypatch.setattr(serve, "ensure_safe_to_start", lambda error: None)
    monkeypatch.setattr(serve, "bind_problem", lambda bind: "")
    serve.Command().handle(bind="127.0.0.1:0", workers=1, check=False)
    assert called == ["hotline"] and callable(captured["wsgi"])


def test_recent_calls_name_the_category_and_link_the_work_order(wuhan, model, operator, client):
    from cityops.hotline.models import HotlineCall

    client.force_login(operator)
    client.post("/hotline/accept/", {**CALL, "category": "E0501", "kind": "urgent"})
    code = HotlineCall.objects.get().case_code
    html = client.get("/hotline/").content.decode()
    table = re.search(r'<table class="list" id="recent-calls">.*?</table>', html, re.S).group(0)
    assert "道路积水" in table and "E0501" not in table
    assert f'<a href="/cases/{code}/" class="work-order">{code}</a>' in table
