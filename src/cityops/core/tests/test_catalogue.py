"""`make messages` leaves no untranslated entry: every Chinese message of the code and templates has its English
translation (issue 13), in the project's catalogue (locale/en) and in each app's own (<app>/locale/en). Runs
Django's makemessages on a copy of the sources, as `make messages` does, and reads what it wrote."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2]  # src/cityops
SOURCE_SUFFIXES = (".py", ".html", ".txt", ".po")


def _sources_only(directory, names):
    return [n for n in names if not (Path(directory, n).is_dir() or n.endswith(SOURCE_SUFFIXES))
            or n in ("__pycache__", "node_modules")]


def _entries(po: str) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of each entry of a .po file, header left out."""
    entries, fuzzy, msgid, msgstr, field = [], False, None, None, None

    def close():
        if msgid:
            entries.append((msgid, msgstr or "", fuzzy))

    for line in po.splitlines() + [""]:
        if not line.strip():
            close()
            fuzzy, msgid, msgstr, field = False, None, None, None
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith(("msgid ", "msgstr ", "msgid_plural ", "msgstr[0] ")):
            key, _, value = line.partition(" ")
            field = {"msgid": "id", "msgstr": "str", "msgstr[0]": "str"}.get(key)
            if field == "id":
                msgid = value.strip('"')
            elif field == "str":
                msgstr = value.strip('"')
        elif line.startswith('"') and field:
            if field == "id":
                msgid = (msgid or "") + line.strip('"')
            else:
                msgstr = (msgstr or "") + line.strip('"')
    return entries


@pytest.mark.slow
def test_make_messages_leaves_no_untranslated_entry(tmp_path):
    if not shutil.which("xgettext"):
        pytest.skip("GNU gettext is not installed (apt-get install gettext)")
    copy = tmp_path / "cityops"
    shutil.copytree(SRC, copy, ignore=_sources_only)
    env = {**os.environ, "PYTHONPATH": str(SRC.parent), "DJANGO_SETTINGS_MODULE": "cityops.settings"}
    subprocess.run([sys.executable, "-m", "django", "makemessages", "-l", "en", "--no-obsolete", "-v0"],
                   cwd=copy, env=env, check=True, timeout=300)
    # The project catalogue, and each app's own (an app with a locale/ folder keeps its messages there).
    catalogues = sorted(copy.rglob("locale/en/LC_MESSAGES/django.po"))
    assert copy / "locale/en/LC_MESSAGES/django.po" in catalogues
    assert len(_entries((copy / "locale/en/LC_MESSAGES/django.po").read_text(encoding="utf-8"))) > 500
    missing = [f"{po.relative_to(copy)}: {msgid}" for po in catalogues
               for msgid, msgstr, fuzzy in _entries(po.read_text(encoding="utf-8")) if not msgstr or fuzzy]
    assert missing == [], f"{len(missing)} messages without an English translation (run `make messages`)"
