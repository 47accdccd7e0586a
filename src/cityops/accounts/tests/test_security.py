"""Security from the first day: tokens, lockout, CSRF, headers, production mode."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cityops.accounts.models import ApiToken
from cityops.accounts.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


def test_token_is_stored_hashed_and_authenticates(operator):
    token, secret = api_token_create(user=operator, name="integration")
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.key_hash, stored.key_id) and len(stored.key_hash) == 64
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/accounts/me")
    assert response.status_code == 200
    assert response.json()["username"] == operator.username
    assert response.json()["roles"] == ["operator"]


def test_revoked_expired_and_wrong_tokens_get_401_in_our_error_shape(operator):
    token, secret = api_token_create(user=operator)
    _, expired_secret = api_token_create(user=operator, expires_at=timezone.now() - timedelta(minutes=1))
    api_token_revoke(key_id=token.key_id)
    for bad in (secret, expired_secret, secret[:-2] + "xx", "garbage", ""):
        response = Client(HTTP_AUTHORIZATION=f"Bearer {bad}").get("/api/v1/accounts/me")
        assert response.status_code == 401, bad
        body = response.json()
        assert body["code"] == "not_authenticated" and body["message"] and body["message_en"]


def test_token_revocation_is_on_the_timeline(operator):
    from cityops.core.timeline import timeline_for

    token, _ = api_token_create(user=operator)
    api_token_revoke(key_id=token.key_id)
    assert list(timeline_for(operator).values_list("action", flat=True)) == ["token_create", "token_revoke"]


def test_session_works_for_the_api_and_unsafe_methods_need_csrf(operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.get("/api/v1/accounts/me").status_code == 200
    # A POST with the session but without the CSRF token is refused.
    response = client.post("/api/v1/accounts/tokens", data='{"name": "x"}', content_type="application/json")
    assert response.status_code in (401, 403)
    assert not ApiToken.objects.filter(user=operator).exists()
    # With the token from the cookie, the same request is accepted.
    assert client.get("/").status_code == 200  # any page with a form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/accounts/tokens", data='{"name": "x"}', content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert response.status_code == 201 and response.json()["token"].startswith("co_")


def test_repeated_failed_logins_lock_the_account(operator):
    client = Client()
    for _ in range(4):
        response = client.post("/accounts/login/", {"username": operator.username, "password": "wrong-password"})
        assert response.status_code == 200
    # The fifth failure locks the account.
    response = client.post("/accounts/login/", {"username": operator.username, "password": "wrong-password"})
    assert response.status_code == 429
    # Now even the right password is refused: the account is locked out.
    response = client.post("/accounts/login/", {"username": operator.username, "password": "pw-cityops-test"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_successful_login_resets_failures(operator):
    client = Client()
    for _ in range(3):
        client.post("/accounts/login/", {"username": operator.username, "password": "wrong"})
    response = client.post("/accounts/login/", {"username": operator.username, "password": "pw-cityops-test"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(operator.pk)


def test_security_headers_and_cookie_flags(operator):
    client = Client()
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    client.post("/accounts/login/", {"username": operator.username, "password": "pw-cityops-test"})
    assert client.cookies["sessionid"]["httponly"]
    assert client.cookies["sessionid"]["samesite"] == "Lax"


def _run(argv, tmp_path, **env):
    """Run argv as a fresh process on a temporary SQLite database in tmp_path, with only the given CITYOPS_*
    settings (none from this test run, no .env file)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CITYOPS_", "SECRET_KEY", "DATABASE_URL"))}
    base.update({"DATABASE_URL": f"sqlite:///{tmp_path}/prod.sqlite3", "CITYOPS_DATA_DIR": str(tmp_path),
                 "CITYOPS_ENV_FILE": str(tmp_path / "no.env")})
    base.update(env)
    base.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(argv, env=base, capture_output=True, text=True, timeout=120, cwd=tmp_path)


def _cityops(args, tmp_path, **env):
    return _run([sys.executable, "-m", "cityops", *args], tmp_path, **env)


def _load_wsgi(tmp_path, **env):
    """What gunicorn does first in each worker: import the WSGI application."""
    return _run([sys.executable, "-c", "import cityops.wsgi"], tmp_path, **env)


def _gunicorn(args, tmp_path, **env):
    return _run([sys.executable, "-m", "gunicorn", *args, "cityops.wsgi"], tmp_path, **env)


PROD = {
    "CITYOPS_ENV": "production",
    "SECRET_KEY": "k3J9-" + "x7Qv2mZp8Rt4Ln6Wc1Ys5Hb0Df3Gj9Ka2Ue7Io4Pl8Mn6Bv1Cx5Z",
    "CITYOPS_ALLOWED_HOSTS": "cityops.example.gov.cn",
}


@pytest.mark.slow
def test_production_mode_passes_check_deploy_without_warnings(tmp_path):
    result = _cityops(["check", "--deploy", "--fail-level", "WARNING"], tmp_path, **PROD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_production_refuses_the_default_secret_key(tmp_path):
    env = dict(PROD)
    env.pop("SECRET_KEY")
    result = _cityops(["check", "--deploy"], tmp_path, **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.slow
def test_production_refuses_a_demo_password_setting(tmp_path):
    result = _cityops(["check"], tmp_path, CITYOPS_DEMO_PASSWORD="cityops-demo", **PROD)
    assert result.returncode != 0
    assert "demo password" in result.stderr


@pytest.mark.slow
def test_production_refuses_to_start_while_demo_users_keep_the_demo_password(tmp_path):
    # The database was filled in development (demo users), then switched to production.
    dev = {"CITYOPS_ENV": "development"}
    assert _cityops(["migrate", "-v0"], tmp_path, **dev).returncode == 0
    from cityops.accounts.demo import DEMO_USERS  # noqa: F401  (the usernames checked)

    script = "from cityops.accounts.models import User; User.objects.create_user('operator', password='cityops-demo')"
    assert _cityops(["shell", "-c", script], tmp_path, **dev).returncode == 0
    refused = _cityops(["serve", "--check"], tmp_path, **PROD)
    assert refused.returncode != 0 and "demo password" in refused.stderr
    refused_check = _cityops(["check", "--deploy", "--database", "default"], tmp_path, **PROD)
    assert refused_check.returncode != 0 and "cityops.E001" in refused_check.stderr
    # A plain gunicorn refuses too: the WSGI application does not load, gunicorn's own config check fails, and
    # the real server stops because its worker cannot boot.
    for refused in (_load_wsgi(tmp_path, **PROD), _gunicorn(["--check-config"], tmp_path, **PROD),
                    _gunicorn(["--bind", "127.0.0.1:0", "--workers", "1", "--graceful-timeout", "1"], tmp_path, **PROD)):
        assert refused.returncode != 0
        assert "refusing to start" in refused.stderr and "demo password" in refused.stderr and "operator" in refused.stderr
    fix = "from cityops.accounts.models import User; u=User.objects.get(username='operator'); u.set_password('a-long-real-passphrase-2026'); u.save()"
    assert _cityops(["shell", "-c", fix], tmp_path, **dev).returncode == 0
    assert _cityops(["serve", "--check"], tmp_path, **PROD).returncode == 0
    assert _load_wsgi(tmp_path, **PROD).returncode == 0
    checked = _gunicorn(["--check-config"], tmp_path, **PROD)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.slow
@pytest.mark.parametrize("value", ["Production", "prod", "PRODUCTION", " production", "", "staging"])
def test_an_unknown_environment_name_refuses_to_start(tmp_path, value):
    # "Production" used to run in development mode with DEBUG on.
    env = {**PROD, "CITYOPS_ENV": value}
    for refused in (_load_wsgi(tmp_path, **env), _cityops(["check"], tmp_path, **env)):
        assert refused.returncode != 0
        assert "CITYOPS_ENV must be development or production" in refused.stderr
        assert "CITYOPS_ENV 只能是 development 或 production" in refused.stderr


WEAK_KEYS = {
    "one letter": "a" * 50,
    "five letters repeated": "abcde" * 10,
    "ten letters repeated": "abcdefghij" * 5,
    "too short": "k3J9-x7Qv2mZp8Rt4Ln6Wc1Ys5Hb0Df3G",
    "django's insecure prefix": "django-insecure-" + "x7Qv2mZp8Rt4Ln6Wc1Ys5Hb0Df3Gj9Ka2Ue7Io4Pl8Mn6Bv1Cx5Z",
    "low entropy": "aaaaaaaaaabbbbbbbbbbaaaaaaaaaabbbbbbbbbbcdefgaaaaaaaaaabbbbbbbbbb",
    "the development key": "cityops-development-secret-not-for-production",
}


@pytest.mark.parametrize("name", list(WEAK_KEYS))
def test_weak_secret_keys_are_refused(name):
    from cityops.core.secret_key import secret_key_weakness
    from cityops.settings import DEV_SECRET_KEY

    reason = secret_key_weakness(WEAK_KEYS[name], development_key=DEV_SECRET_KEY)
    assert reason is not None
    zh, en = reason
    assert "SECRET_KEY" in zh and "SECRET_KEY" in en
    assert WEAK_KEYS[name] not in zh + en  # the key itself is never printed


def test_generated_secret_keys_pass():
    import secrets

    from django.core.management.utils import get_random_secret_key

    from cityops.core.secret_key import secret_key_weakness

    for _ in range(200):
        for key in (secrets.token_urlsafe(64), secrets.token_hex(25), get_random_secret_key()):
            assert secret_key_weakness(key) is None, key
    assert secret_key_weakness(PROD["SECRET_KEY"]) is None


@pytest.mark.slow
def test_production_refuses_a_low_entropy_secret_key_at_every_entry_point(tmp_path):
    env = {**PROD, "SECRET_KEY": "a" * 50}  # passed the old length-only check
    for refused in (_load_wsgi(tmp_path, **env), _cityops(["check", "--deploy"], tmp_path, **env),
                    _gunicorn(["--check-config"], tmp_path, **env)):
        assert refused.returncode != 0
        assert "production mode refuses this SECRET_KEY" in refused.stderr
        assert "a" * 50 not in refused.stderr


@pytest.mark.slow
def test_a_correct_production_configuration_loads(tmp_path):
    assert _cityops(["migrate", "-v0"], tmp_path, **PROD).returncode == 0
    loaded = _run([sys.executable, "-c", "import cityops.wsgi as w; from django.conf import settings; "
                   "print(callable(w.application), settings.DEBUG, settings.PRODUCTION)"], tmp_path, **PROD)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["True", "False", "True"]
