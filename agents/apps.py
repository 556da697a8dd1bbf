from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AgentsConfig(AppConfig):
    name = "agents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from agents import brands, roles, sessions

        # After Django's own post_migrate handlers (permissions), so ours can use them.
        post_migrate.connect(roles.ensure_role_groups, sender=self)
        sessions.connect()
        brands.connect()  # issue 16: the switcher's cached brand list, forgotten on change
