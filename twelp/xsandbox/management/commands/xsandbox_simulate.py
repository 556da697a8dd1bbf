from __future__ import annotations

from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from twelp.xsandbox.simulate import simulate


class Command(BaseCommand):
    help = "Post simulated customer tweets at the brand in the X sandbox (same seed, same mix)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--count", type=int, default=50, help="How many tweets.")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same tweets.")
        parser.add_argument(
            "--customers", type=int, default=None, help="How many simulated customers."
        )
        parser.add_argument(
            "--every", type=float, default=0.0, help="Post one tweet every N seconds (a trickle)."
        )

    def handle(
        self,
        *args: object,
        count: int,
        seed: int,
        customers: int | None,
        every: float,
        **options: object,
    ) -> None:
        if count < 1:
            raise CommandError("--count must be at least 1.")
        try:
            run = simulate(count, seed=seed, customers=customers, pace=every)
        except LookupError as error:
            raise CommandError(str(error)) from None
        mix = ", ".join(f"{kind} {n}" for kind, n in sorted(run.kinds.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Posted {len(run.tweets)} tweets from {len(run.customers)} customers ({mix})."
            )
        )
