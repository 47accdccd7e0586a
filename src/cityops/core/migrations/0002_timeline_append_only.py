"""The database itself refuses to change a timeline entry (and, on PostgreSQL, to delete one).

SQLite gets no DELETE trigger because Django's test flush deletes rows one table at a time; PostgreSQL
flushes with TRUNCATE, which row triggers do not see. `cityops audit verify` catches what slips past.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION cityops_timeline_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'timeline entries are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_timelineentry_no_update BEFORE UPDATE OR DELETE ON core_timelineentry
  FOR EACH ROW EXECUTE FUNCTION cityops_timeline_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS core_timelineentry_no_update ON core_timelineentry;
DROP FUNCTION IF EXISTS cityops_timeline_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER core_timelineentry_no_update BEFORE UPDATE ON core_timelineentry
BEGIN SELECT RAISE(ABORT, 'timeline entries are append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS core_timelineentry_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
