"""Re-seal every brand's X credentials with the first of TWELP_CREDENTIALS_KEYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from inbox.configure import credentials
from twelp import sealing


class Command(BaseCommand):
    help = "Re-seal brands' stored X credentials with the first TWELP_CREDENTIALS_KEYS key."

    def handle(self, *args: object, **options: object) -> None:
        try:
            count = credentials.rotate_keys()
        except sealing.CannotOpen as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Re-sealed {count} brand credential(s) with the first key.")
