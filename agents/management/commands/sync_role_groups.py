"""Put every employee in their role's Django group (and leavers in none).

The actions keep groups in step; this repairs rows made another way (the demo data,
the Django admin, an import from before groups existed). Safe to run any time.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from agents import roles
from agents.models import Agent, AgentState


class Command(BaseCommand):
    help = "Put every employee in their role's group; deactivated and pending ones in none."

    def handle(self, *args: object, **options: object) -> None:
        roles.ensure_role_groups()
        count = 0
        with transaction.atomic():
            for agent in Agent.objects.select_related("user").iterator():
                active = agent.state == AgentState.ACTIVE
                roles.set_role_group(agent.user, agent.role if active else None)
                count += 1
        self.stdout.write(f"Role groups set for {count} employees.")
