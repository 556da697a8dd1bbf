"""`python manage.py verify_audit [--brand HANDLE] [--seal]`: check every brand's hash
chain of Events (inbox.data.audit) and say where it breaks; exit status 1 if it does."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inbox import events
from inbox.data import audit
from inbox.models import Brand


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain, brand by brand; say where it breaks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--brand", help="Only this brand's handle (without @).")
        parser.add_argument("--seal", action="store_true", help="Seal new rows first.")

    def handle(self, *args: object, **options: object) -> None:
        if options["seal"]:
            while events.seal():
                pass
        brands = Brand.objects.order_by("id")
        if options["brand"]:
            brands = brands.filter(handle__iexact=options["brand"])
            if not brands:
                raise CommandError(f"No brand @{options['brand']}.")
        broken = 0
        for brand in brands:
            report = audit.verify(brand)
            self.stdout.write(
                f"{report.brand}: {report.sealed} sealed ({report.erased} erased),"
                f" {report.unsealed} not sealed yet, head {report.head}"
            )
            for line in report.breaks:
                self.stdout.write(f"  BROKEN: {line}")
            broken += len(report.breaks)
        if broken:
            raise CommandError(f"The audit chain is broken in {broken} place(s).")
        self.stdout.write("The audit chain verifies.")
