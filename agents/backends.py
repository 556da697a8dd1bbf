"""Django's ModelBackend, loading the employee with the user.

Every view checks the employee behind the login (agents.access.role_required): reading
the Agent and its Brand in the same query as the session's User makes that check cost
one statement per request instead of two, on the hot pages (the queue every agent keeps
open, the dashboard) as on every other. The check itself is unchanged and still reads
PostgreSQL on every request, with SQL the ORM wrote once per process (twelp.prepared).
The same statement reads the employee's teams (issue 15:
the queue lists their teams' threads), as two subqueries on inbox_team_members, and
whether they belong to another brand too (issue 16), a subquery on agents_membership.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, OuterRef

from agents.models import Membership
from inbox.models import Team
from twelp.prepared import Prepared


def _employee(user_id: int) -> Any:
    member = Team.members.through.objects.filter(agent_id=OuterRef("agent__id"))
    return (
        get_user_model()
        ._default_manager.select_related("agent__brand")
        .annotate(
            team_ids=ArraySubquery(member.values("team_id")),
            in_default_team=Exists(member.filter(team__is_default=True)),
            # Issue 16: whether they belong to another brand too (the top bar's switcher;
            # without one, agents.brands needs neither the cache nor a query).
            other_brands=Exists(
                Membership.objects.filter(agent_id=OuterRef("agent__id")).exclude(
                    brand_id=OuterRef("agent__brand_id")
                )
            ),
        )
        .filter(pk=user_id)
    )


# Built by the ORM once per process, run on every request (twelp.prepared).
EMPLOYEE = Prepared(_employee)


class EmployeeBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        try:
            user = EMPLOYEE.first(int(user_id))
        except (TypeError, ValueError):  # not an id of ours: no one is logged in
            return None
        if user is None:
            return None
        agent = getattr(user, "agent", None)  # None: no Agent row
        if agent is not None:  # inbox.routing.teams.scope reads it
            agent.team_scope = (user.team_ids or None, user.in_default_team or not user.team_ids)
            agent.other_brands = user.other_brands  # agents.brands.rows reads it
        return user if self.user_can_authenticate(user) else None
