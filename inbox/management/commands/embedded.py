from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from twelp import embedded


class Command(BaseCommand):
    help = "Start, stop or show the embedded PostgreSQL and Redis under var/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["start", "stop", "status"])

    def handle(self, *args: object, action: str, **options: object) -> None:
        var = settings.VAR_DIR
        if action == "start":
            started = embedded.ensure_running(
                var, postgres=settings.EMBEDDED_POSTGRES, redis=settings.EMBEDDED_REDIS
            )
            for name, now in started.items():
                self.stdout.write(f"{name}: {'started' if now else 'already running'}")
        elif action == "stop":
            embedded.stop(var)
            self.stdout.write("stopped")
        else:
            for name, pid in embedded.status(var).items():
                self.stdout.write(f"{name}: {'running, pid ' + str(pid) if pid else 'stopped'}")
