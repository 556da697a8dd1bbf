#!/usr/bin/env python
"""Django's command-line utility for Twelp.

manage.py is the local entry point, so DEBUG defaults to on here (production sets
DEBUG=false explicitly, and its web and worker processes default to off). With no
DATABASE_URL / REDIS_URL it starts the embedded PostgreSQL and Redis under var/ first.
"""

from __future__ import annotations

import os
import sys

NO_SERVERS_NEEDED = {"help", "--help", "-h", "version", "--version", "embedded", "demo"}


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twelp.settings")
    if command.startswith("xsandbox_") and os.environ["DJANGO_SETTINGS_MODULE"] == "twelp.settings":
        # The X sandbox's own commands (xsandbox_seed, xsandbox_simulate) run with its
        # settings: its app is installed there, never in Twelp's.
        os.environ["DJANGO_SETTINGS_MODULE"] = "twelp.xsandbox.settings"
    os.environ.setdefault("DEBUG", "true")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    if command not in NO_SERVERS_NEEDED:
        from twelp import embedded

        embedded.ensure_running(
            settings.VAR_DIR, postgres=settings.EMBEDDED_POSTGRES, redis=settings.EMBEDDED_REDIS
        )
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
