from __future__ import annotations

import json
from argparse import ArgumentParser

from django.core.management.base import BaseCommand

from twelp.xsandbox.seed import World, employee_ids, seed


class Command(BaseCommand):
    help = "Create (or update) the X sandbox's app, brand account and customer personas."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print the world as JSON (Twelp's demo links its employees by these ids).",
        )

    def handle(self, *args: object, as_json: bool = False, **options: object) -> None:
        world = seed()
        if as_json:
            self.stdout.write(json.dumps(world_json(world), ensure_ascii=False))
            return
        self.stdout.write(f"App {world.app.name!r}: consumer key {world.app.consumer_key}")
        self.stdout.write(f"Brand @{world.brand.username} (id {world.brand.pk})")
        customers = ", ".join(f"@{account.username}" for account in world.customers)
        self.stdout.write(self.style.SUCCESS(f"Customers: {customers}"))


def world_json(world: World) -> dict[str, object]:
    """{"brand": {"id", "username"}, "employees": {username: X user id}}."""
    return {
        "brand": {"id": world.brand.pk, "username": world.brand.username},
        "employees": employee_ids(),
    }
