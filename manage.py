#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "training.settings")
    # No database and no secret key given: this is the zero-setup demo on the
    # checkout's SQLite file (`make run`), so a command typed in a fresh shell
    # (`manage.py issue_token …`) runs with its settings. Production names its
    # database, so the strict checks (a real SECRET_KEY) still apply there.
    if not os.environ.get("DATABASE_URL") and not os.environ.get("SECRET_KEY"):
        os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
