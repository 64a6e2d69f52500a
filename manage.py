#!/usr/bin/env python
"""Django's command-line utility for claimdesk."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    # With neither SECRET_KEY nor DEBUG set, manage.py is a development tool (DEBUG on, the
    # development key, SQLite unless DATABASE_URL says otherwise). Production sets SECRET_KEY;
    # the served app (project/wsgi.py) never gets this default and refuses to start without it.
    if "SECRET_KEY" not in os.environ:
        os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
