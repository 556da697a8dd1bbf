"""Prints a one-time link that sets up a brand and its first admin (agents.bootstrap)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from agents import bootstrap


class Command(BaseCommand):
    help = "Print a one-time setup link for a new brand and its first admin (valid 1 hour)."

    def handle(self, *args: object, **options: object) -> None:
        token = bootstrap.new_link_token()
        url = settings.SITE_URL + reverse("setup", args=[token])
        minutes = bootstrap.LINK_SECONDS // 60
        self.stdout.write(
            f"Open this link within {minutes} minutes to set up a brand and its first admin "
            f"(it works once):\n{url}"
        )
