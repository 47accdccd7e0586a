"""Errors and API docs a newcomer can use (issue 13): `cityops run` is not a debugging server (DEBUG is off unless
`cityops runserver` or CITYOPS_DEBUG asks); the branded error pages speak the user's language and lead back; the
API docs at /api/v1/docs load Swagger UI from cityops's own static files, which the CSP allows."""

import os
import re
import subprocess
import sys

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def _debug_in_a_fresh_process(*, argv: list[str], env: dict) -> str:
    """settings.DEBUG as a fresh `cityops <argv>` process sees it (the command itself is not run)."""
    code = (
        "import os, sys\n"
        f"sys.argv = ['cityops', *{argv!r}]\n"
        "import django.core.management as m\n"
        "m.execute_from_command_line = lambda argv: None\n"
        "from cityops.manage import main\n"
        "main()\n"
        "from django.conf import settings\n"
        "print(settings.DEBUG)\n"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("CITYOPS_DEBUG", "DJANGO_SETTINGS_MODULE")}
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_debug_is_off_for_run_and_serve_and_on_only_when_asked():
    assert _debug_in_a_fresh_process(argv=["run"], env={}) == "False"
    assert _debug_in_a_fresh_process(argv=["serve"], env={}) == "False"
    assert _debug_in_a_fresh_process(argv=["runserver"], env={}) == "True"
    assert _debug_in_a_fresh_process(argv=["run"], env={"CITYOPS_DEBUG": "1"}) == "True"
    assert _debug_in_a_fresh_process(argv=["runserver"], env={"CITYOPS_DEBUG": "0"}) == "False"


@pytest.mark.parametrize(("language", "message", "back"), [("zh-hans", "未找到该地址", "返回首页"), ("en", "No such address", "Back to the home page")])
def test_a_missing_page_is_branded_in_the_users_language_with_a_way_back(language, message, back):
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'class="error-page"' in html and message in html
    assert f'<a href="/">{back}</a>' in html
    assert "Traceback" not in html and "Django" not in html


def test_api_docs_load_swagger_ui_from_our_own_static_files(operator):
    client = Client()
    client.force_login(operator)
    response = client.get("/api/v1/docs")
    html = response.content.decode()
    assert response.status_code == 200
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    styles = re.findall(r'<link[^>]*href="([^"]+\.css)"', html)
    assert scripts and styles
    for url in scripts + styles:
        assert url.startswith("/static/"), url  # same origin: no CDN, nothing the CSP blocks
        assert finders.find(url.removeprefix("/static/")), url
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    # No inline script runs under that CSP: the only inline <script> is Swagger's JSON settings (not executed).
    inline = re.findall(r"<script(?![^>]*src=)([^>]*)>", html)
    assert all('type="application/json"' in attrs for attrs in inline), inline
    assert '"validatorUrl": null' in html  # no badge fetched from validator.swagger.io


def test_the_openapi_document_has_no_duplicate_keys(operator):
    """Swagger UI parses the document with a YAML parser, which refuses a key twice in one object — as ninja's int
    status 400 next to the shared error statuses' "400" came out ("Unable to render this definition")."""
    import json

    client = Client()
    client.force_login(operator)
    duplicates = []

    def pairs(items):
        keys = [key for key, _ in items]
        duplicates.extend(key for key in set(keys) if keys.count(key) > 1)
        return dict(items)

    json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=pairs)
    assert duplicates == []
