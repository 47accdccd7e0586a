"""The `cityops` command line: token, audit, worker, and a fresh start the way `make run` does it."""

import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import requests
from django.core.management import call_command
from django.test import Client

from cityops.core.tests.sample.models import Ticket
from cityops.core.timeline import timeline_for
from cityops.core.workflow import create_with_timeline, transition


@pytest.mark.django_db
def test_token_create_prints_a_working_bearer_token(operator):
    out = StringIO()
    call_command("token", "create", "--user", operator.username, stdout=out)
    token = out.getvalue().strip()
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/accounts/me")
    assert response.status_code == 200 and response.json()["username"] == operator.username


@pytest.mark.django_db
def test_token_create_for_unknown_user_fails_clearly():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such user"):
        call_command("token", "create", "--user", "nobody")


@pytest.mark.django_db
def test_worker_once_runs_the_overdue_sweep(dispatcher, monkeypatch):
    from django.utils import timezone

    past = datetime(2026, 1, 5, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr(timezone, "now", lambda: past)
    ticket = create_with_timeline(Ticket(title="t"), actor=dispatcher)
    transition(ticket, "open", dispatcher)
    monkeypatch.setattr(timezone, "now", lambda: past + timedelta(days=30))
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert "notice" in out.getvalue()
    assert list(timeline_for(ticket).values_list("action", flat=True))[-3:] == ["overdue", "remind", "notice"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_fresh_start_serves_the_demo_city_with_a_worker(tmp_path):
    """What `make run` does after installing: migrate, load the demo, run server and worker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYOPS_", "DATABASE_URL", "DJANGO_SETTINGS"))}
    env.update({"CITYOPS_DATA_DIR": str(tmp_path), "CITYOPS_DEMO_PASSWORD": "fresh-start-demo-pw"})
    cityops = [sys.executable, "-m", "cityops"]
    assert subprocess.run([*cityops, "migrate", "-v0"], env=env, timeout=300).returncode == 0
    demo = subprocess.run([*cityops, "load_demo"], env=env, timeout=600, capture_output=True, text=True)
    assert demo.returncode == 0, demo.stderr
    assert "dept_hw" in demo.stdout and "gridworker" in demo.stdout
    port = _free_port()
    proc = subprocess.Popen([*cityops, "run", "--bind", f"127.0.0.1:{port}"], env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        # Each worker loads the hotline model before it serves (HotlineConfig.warm_up): until then the master
        # accepts the connection and the request waits, so a timeout means "not yet", like a refused connection.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.5)
        session = requests.Session()
        login_page = session.get(f"{base}/accounts/login/")
        assert login_page.status_code == 200
        response = session.post(
            f"{base}/accounts/login/",
            data={"username": "dept_hw", "password": "fresh-start-demo-pw", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            headers={"Referer": f"{base}/accounts/login/"},
        )
        assert response.status_code == 200 and "本部门待办" in response.text
        located = session.get(f"{base}/api/v1/geo/locate", params={"lon": "114.3165", "lat": "30.5434"})
        assert located.json()["district"] == {"code": "420106", "name": "武昌区"}
        # The worker is a child process of `cityops run`.
        children = subprocess.run(["pgrep", "-f", "-P", str(proc.pid), "cityops worker"], capture_output=True, text=True)
        assert children.stdout.strip(), "the background worker is running"
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


# --- a busy port says which variable to change (issue 13, newcomer path) ---------------------------------------
@pytest.mark.parametrize("command", ["serve", "run"])
def test_a_busy_port_stops_the_start_with_one_bilingual_line(command):
    from django.core.management.base import CommandError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError) as excinfo:
            call_command(command, bind=f"127.0.0.1:{port}")
    message = str(excinfo.value)
    assert f"端口 {port} 已被占用" in message and f"port {port} is already in use" in message
    assert f"PORT={port + 1}" in message and "CITYOPS_BIND=" in message
    assert "\n" not in message


def test_a_free_port_and_a_malformed_bind_address():
    from cityops.core.serving import bind_problem

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert bind_problem(f"127.0.0.1:{port}") is None
    assert "HOST:PORT" in bind_problem("localhost")
    assert "HOST:PORT" in bind_problem("127.0.0.1:99999")
