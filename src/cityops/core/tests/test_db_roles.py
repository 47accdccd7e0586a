"""`cityops db roles`: the application's own database role cannot rewrite the timeline or switch its guards off
(issue 10 §5), yet runs every real flow; production refuses a superuser or the tables' owner."""

import os
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from cityops.core.audit import audit_run
from cityops.core.checkpoint import checkpoint_write
from cityops.core.dbroles import database_role_problems
from cityops.core.security import startup_problems
from cityops.core.tests.sample.models import Ticket
from cityops.core.timeline import timeline_append
from cityops.core.workflow import create_with_timeline, sweep_overdue, transition

ROLE = f"cityops_app_test_{os.getpid()}"


@pytest.mark.django_db
def test_roles_on_sqlite_say_they_need_postgresql():
    if connection.vendor == "sqlite":  # (the PostgreSQL run has the real tests below)
        with pytest.raises(CommandError, match="PostgreSQL only"):
            call_command("db", "roles", "--print")


@pytest.fixture
def app_role():
    call_command("db", "roles", "--role", ROLE, stdout=StringIO())
    yield ROLE
    with connection.cursor() as cur:
        cur.execute("RESET ROLE")
        cur.execute(f'DROP OWNED BY "{ROLE}"')  # its privileges here (the test database goes with the run)
        cur.execute(f'DROP ROLE IF EXISTS "{ROLE}"')


@contextmanager
def acting_as(role):
    """The Django connection with the role's privileges (SET ROLE), as if the application connected as it."""
    with connection.cursor() as cur:
        cur.execute(f'SET ROLE "{role}"')
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute("RESET ROLE")


def connect_as(role):
    import psycopg

    s = connection.settings_dict
    return psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, dbname=s["NAME"], user=role,
                           autocommit=True)


@pytest.mark.postgres
@pytest.mark.django_db
def test_print_shows_the_sql_and_grants_no_way_to_rewrite_the_timeline():
    out = StringIO()
    call_command("db", "roles", "--role", "cityops_app_print", "--print", stdout=out)
    sql = out.getvalue()
    assert 'GRANT SELECT, INSERT ON "core_timelineentry" TO "cityops_app_print";' in sql
    assert 'GRANT SELECT, INSERT, UPDATE ON "core_timelinehead" TO "cityops_app_print";' in sql
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON "cases_case" TO "cityops_app_print";' in sql
    assert "NOSUPERUSER" in sql and "TRUNCATE" not in sql
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = 'cityops_app_print'")
        assert cur.fetchone() is None  # printed, not run


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_app_role_runs_real_flows_and_the_audit_stays_clean(app_role, dispatcher, handler_hw, settings, tmp_path):
    settings.CITYOPS_AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    with acting_as(app_role):
        ticket = create_with_timeline(Ticket(title="as the app"), actor=dispatcher)
        ticket = transition(ticket, "open", dispatcher)
        ticket = transition(ticket, "pause", handler_hw)
        ticket = transition(ticket, "resume", dispatcher)
        with transaction.atomic():
            timeline_append(subject=Ticket.objects.select_for_update().get(pk=ticket.pk), action="comment", actor=dispatcher)
        sweep_overdue(now=timezone.now() + timedelta(days=60))
        assert checkpoint_write().heads == 1
        report = audit_run()
    assert report.problems == [] and report.checked == 8 and report.signed.heads


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_app_role_cannot_rewrite_the_timeline_nor_switch_its_guards_off(app_role, dispatcher):
    import psycopg

    ticket = transition(create_with_timeline(Ticket(title="t"), actor=dispatcher), "open", dispatcher)
    attempts = [
        ("UPDATE core_timelineentry SET note = 'forged'", "permission denied"),
        ("DELETE FROM core_timelineentry", "permission denied"),
        ("UPDATE core_timelinehead SET seq = seq - 1", "only move forward"),
        ("UPDATE core_timelinehead SET hash = 'x'", "only move forward"),
        ("DELETE FROM core_timelinehead", "permission denied"),
        ("TRUNCATE core_timelineentry CASCADE", "permission denied"),
        ("SET cityops.allow_timeline_truncate = on; TRUNCATE core_timelinehead", "permission denied"),
        ("ALTER TABLE core_timelineentry DISABLE TRIGGER ALL", "must be owner"),
        ("ALTER TABLE core_timelinehead DISABLE TRIGGER core_timelinehead_forward_only", "must be owner"),
        ("DROP TRIGGER core_timelineentry_no_update ON core_timelineentry", "must be owner"),
        ("DROP FUNCTION cityops_timeline_head_forward() CASCADE", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("CREATE OR REPLACE FUNCTION cityops_timeline_append_only() RETURNS trigger AS $$ BEGIN RETURN NEW; END; "
         "$$ LANGUAGE plpgsql", "must be owner|permission denied"),
        ("ALTER ROLE CURRENT_USER SUPERUSER", "must be superuser"),
    ]
    with connect_as(app_role) as conn:
        assert conn.execute("SELECT count(*) FROM core_timelineentry").fetchone()[0] == 2  # it can read
        for sql, refusal in attempts:
            with pytest.raises(psycopg.Error, match=refusal):
                conn.execute(sql)
        # What it may do to a row it owns the right to write — edit the ticket itself (c) — the audit names.
        conn.execute("UPDATE sample_ticket SET state = 'done' WHERE id = %s", [ticket.pk])
    err = StringIO()
    with pytest.raises(CommandError, match="tampered"):
        call_command("audit", "verify", stderr=err, stdout=StringIO())
    assert f"sample.ticket:{ticket.pk}#2 mismatch" in err.getvalue()
    assert [p.kind for p in audit_run().problems] == ["mismatch"]  # the timeline itself is untouched


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_roles_refuses_a_role_that_could_switch_triggers_off():
    with pytest.raises(CommandError, match="superuser"):
        call_command("db", "roles", "--role", connection.settings_dict["USER"], stdout=StringIO())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_production_refuses_to_run_as_a_superuser_or_owner(app_role, settings):
    settings.PRODUCTION = True
    problems = database_role_problems()
    assert len(problems) == 1 and "database superuser" in problems[0] and "CITYOPS_ALLOW_OWNER_ROLE" in problems[0]
    assert problems[0] in startup_problems()
    settings.CITYOPS_ALLOW_OWNER_ROLE = True
    assert database_role_problems() == []
    settings.CITYOPS_ALLOW_OWNER_ROLE = False
    with acting_as(app_role):
        assert database_role_problems() == []


@pytest.mark.postgres
@pytest.mark.django_db
def test_production_refuses_to_run_as_an_owner_that_is_no_superuser(settings):
    settings.PRODUCTION = True
    owner = f"cityops_owner_test_{os.getpid()}"
    with connection.cursor() as cur:  # all of it rolls back with the test's transaction
        cur.execute(f'CREATE ROLE "{owner}" NOSUPERUSER')
        cur.execute(f'ALTER TABLE core_notification OWNER TO "{owner}"')
        cur.execute(f'SET LOCAL ROLE "{owner}"')
    problems = database_role_problems()
    assert len(problems) == 1 and "owner of 1 table(s)" in problems[0]
    with pytest.raises(CommandError, match="owner of 1 table"):
        call_command("db", "roles", "--role", owner, "--print", stdout=StringIO())
