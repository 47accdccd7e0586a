"""`action` loses its own index (and PostgreSQL's LIKE copy): (action, at) serves every lookup by action,
and each index is written by every transition.

Dropped by name rather than by AlterField: SQLite alters a column by remaking the table, which would drop the
append-only trigger of 0002 with the old table."""

from django.db import migrations, models

DROP = "DROP INDEX IF EXISTS core_timelineentry_action_946a029a; DROP INDEX IF EXISTS core_timelineentry_action_946a029a_like;"
CREATE = "CREATE INDEX core_timelineentry_action_946a029a ON core_timelineentry (action);"


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_timeline_append_only"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name="timelineentry", name="action", field=models.CharField(max_length=40)),
            ],
            database_operations=[migrations.RunSQL(DROP, reverse_sql=CREATE)],
        ),
    ]
