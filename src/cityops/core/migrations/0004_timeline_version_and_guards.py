"""Issue 10 §5: entries record the workflow object's version; heads only move forward; no TRUNCATE.

- `core_timelineentry.version`: the subject's version after the entry (workflow objects; NULL elsewhere and on
  older entries, which keep verifying: the hash covers it only when it is set).
- Heads (PostgreSQL and SQLite): an UPDATE must keep the row's id and subject and raise `seq` — what
  timeline_append does — so a head cannot be rewound over a deleted tail. PostgreSQL also refuses DELETE.
- TRUNCATE of entries or heads (PostgreSQL) is refused. A test suite flushes tables with TRUNCATE: it is let
  through only for a role that could drop these triggers anyway (a superuser or the table's owner), and only
  when its connection says so explicitly (`-c cityops.allow_timeline_truncate=on`, settings_test.py). The
  application's own role owns nothing (`cityops db roles`), so neither the setting nor the trigger is within
  its reach.

SQLite gets no DELETE or TRUNCATE guard (Django's test flush deletes rows there; see 0002): SQLite is for
development, and `cityops audit verify` with keyed checkpoints catches what slips past.
"""

from django.db import migrations, models

PG_FORWARD = """
CREATE OR REPLACE FUNCTION cityops_timeline_no_truncate() RETURNS trigger AS $$
BEGIN
  IF current_setting('cityops.allow_timeline_truncate', true) = 'on' AND (
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       OR pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')) THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'the timeline is append-only: TRUNCATE of % refused', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_timelineentry_no_truncate BEFORE TRUNCATE ON core_timelineentry
  FOR EACH STATEMENT EXECUTE FUNCTION cityops_timeline_no_truncate();
CREATE TRIGGER core_timelinehead_no_truncate BEFORE TRUNCATE ON core_timelinehead
  FOR EACH STATEMENT EXECUTE FUNCTION cityops_timeline_no_truncate();

CREATE OR REPLACE FUNCTION cityops_timeline_head_forward() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.subject_type = OLD.subject_type
     AND NEW.subject_id = OLD.subject_id AND NEW.seq > OLD.seq THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'timeline heads only move forward: % of %:% refused', TG_OP, OLD.subject_type, OLD.subject_id;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_timelinehead_forward_only BEFORE UPDATE OR DELETE ON core_timelinehead
  FOR EACH ROW EXECUTE FUNCTION cityops_timeline_head_forward();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS core_timelinehead_forward_only ON core_timelinehead;
DROP FUNCTION IF EXISTS cityops_timeline_head_forward();
DROP TRIGGER IF EXISTS core_timelinehead_no_truncate ON core_timelinehead;
DROP TRIGGER IF EXISTS core_timelineentry_no_truncate ON core_timelineentry;
DROP FUNCTION IF EXISTS cityops_timeline_no_truncate();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER core_timelinehead_forward_only BEFORE UPDATE ON core_timelinehead
    WHEN NEW.id != OLD.id OR NEW.subject_type != OLD.subject_type OR NEW.subject_id != OLD.subject_id
      OR NEW.seq <= OLD.seq
    BEGIN SELECT RAISE(ABORT, 'timeline heads only move forward'); END;""",
    # Adding a column may remake an SQLite table, which drops its triggers: make sure 0002's is there.
    """CREATE TRIGGER IF NOT EXISTS core_timelineentry_no_update BEFORE UPDATE ON core_timelineentry
    BEGIN SELECT RAISE(ABORT, 'timeline entries are append-only'); END;""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS core_timelinehead_forward_only;"]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)  # no placeholders: its % are RAISE formats
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_timeline_action_index")]
    operations = [
        migrations.AddField(
            model_name="timelineentry", name="version", field=models.PositiveIntegerField(blank=True, null=True)
        ),
        migrations.RunPython(forward, backward),
    ]
