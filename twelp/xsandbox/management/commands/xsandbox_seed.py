from __future__ import annotations

from django.core.management.base import BaseCommand

from twelp.xsandbox.seed import seed


class Command(BaseCommand):
    help = "Create (or update) the X sandbox's app, brand account and customer personas."

    def handle(self, *args: object, **options: object) -> None:
        world = seed()
        self.stdout.write(f"App {world.app.name!r}: consumer key {world.app.consumer_key}")
        self.stdout.write(f"Brand @{world.brand.username} (id {world.brand.pk})")
        customers = ", ".join(f"@{account.username}" for account in world.customers)
        self.stdout.write(self.style.SUCCESS(f"Customers: {customers}"))
