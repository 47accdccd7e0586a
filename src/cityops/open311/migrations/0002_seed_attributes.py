"""The shipped service definitions (data/attributes.json): e.g. the state of a missing manhole cover."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "attributes.json"


def seed(apps, schema_editor):
    ServiceAttribute = apps.get_model("open311", "ServiceAttribute")
    for row in json.loads(DATA.read_text(encoding="utf-8")):
        ServiceAttribute.objects.update_or_create(
            category_code=row["category_code"], code=row["code"],
            defaults={k: v for k, v in row.items() if k not in ("category_code", "code")},
        )


class Migration(migrations.Migration):
    dependencies = [("open311", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
