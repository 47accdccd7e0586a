"""The `cityops` command: Django's manage.py for this project."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityops.settings")
    if sys.argv[1:2] == ["runserver"]:
        # Django's development server is for debugging: DEBUG on unless CITYOPS_DEBUG says otherwise. Every other
        # command (`cityops run`, `serve`) runs with DEBUG off (settings.py).
        os.environ.setdefault("CITYOPS_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
