"""Supervisors' teams and routing rules (inbox.routing.teams). Every view is
`role_required(SUPERVISORS)`; a team, rule or employee of another brand is a 404. Each
POST redirects back to the page with what happened or why it was refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from agents.access import SUPERVISORS, AgentRequest, access_agent, role_required
from agents.models import Agent, AgentState
from inbox.errors import ActionError
from inbox.models import RoutingRule, Source, Team
from inbox.routing import teams
from inbox.rules.routing import LANGUAGES

T = TypeVar("T")


@require_GET
@role_required(SUPERVISORS)
def routing_page(request: AgentRequest) -> HttpResponse:
    brand_id = request.agent.brand_id
    teams.default_team(brand_id)
    return render(
        request,
        "inbox/routing.html",
        {
            "teams": list(
                Team.objects.filter(brand_id=brand_id)
                .prefetch_related("members")
                .order_by("-is_default", "name")
            ),
            "rules": list(
                RoutingRule.objects.filter(brand_id=brand_id)
                .select_related("team")
                .order_by("position", "id")
            ),
            "kinds": RoutingRule.Kind.choices,
            "sources": list(Source.objects.filter(brand_id=brand_id).order_by("id")),
            "agents": list(
                Agent.objects.filter(brand_id=brand_id, state=AgentState.ACTIVE).order_by("name")
            ),
            "languages": sorted(LANGUAGES.items()),
        },
    )


def _done(
    request: AgentRequest, action: Callable[[], T], success: Callable[[T], str]
) -> HttpResponse:
    try:
        result = action()
    except ActionError as error:
        messages.error(request, str(error))
    except (Team.DoesNotExist, RoutingRule.DoesNotExist):
        raise Http404(_("No such team or rule.")) from None
    else:
        messages.success(request, success(result))
    return redirect("inbox:routing")


@require_POST
@role_required(SUPERVISORS)
def team_new(request: AgentRequest) -> HttpResponse:
    name = request.POST.get("name", "")
    return _done(
        request,
        lambda: teams.do_create_team(name, agent=request.agent),
        lambda team: (
            _("Team “%(name)s” created. Add its members and rules below.") % {"name": team.name}
        ),
    )


@require_POST
@role_required(SUPERVISORS)
def team_delete(request: AgentRequest, team_id: int) -> HttpResponse:
    return _done(
        request,
        lambda: teams.do_delete_team(team_id, agent=request.agent),
        lambda moved: (
            ngettext(
                "Team deleted; %(moved)s thread moved to the default team.",
                "Team deleted; %(moved)s threads moved to the default team.",
                moved,
            )
            % {"moved": moved}
        ),
    )


@require_POST
@role_required(SUPERVISORS)
def team_member(request: AgentRequest, team_id: int) -> HttpResponse:
    if not Team.objects.filter(id=team_id, brand_id=request.agent.brand_id).exists():
        raise Http404(_("No such team."))
    raw = request.POST.get("agent", "")
    if not raw.isdigit():
        messages.error(request, _("Pick an employee."))
        return redirect("inbox:routing")
    member = access_agent(request.agent, int(raw))
    add = request.POST.get("op") != "remove"
    return _done(
        request,
        lambda: teams.do_set_member(team_id, member, agent=request.agent, add=add),
        lambda team: (
            _("%(name)s joined %(team)s.") % {"name": member.name, "team": team.name}
            if add
            else _("%(name)s left %(team)s; the threads they hold stay theirs.")
            % {"name": member.name, "team": team.name}
        ),
    )


@require_POST
@role_required(SUPERVISORS)
def rule_new(request: AgentRequest) -> HttpResponse:
    data = request.POST
    team, position = data.get("team", ""), data.get("position", "") or "100"
    if not team.isdigit() or not position.isdigit():
        messages.error(request, _("Pick a team, and give the rule's position as a number."))
        return redirect("inbox:routing")
    return _done(
        request,
        lambda: teams.do_add_rule(
            data.get("kind", ""),
            data.get("value", ""),
            int(team),
            int(position),
            agent=request.agent,
        ),
        lambda rule: _("Rule added: %(rule)s.") % {"rule": rule},
    )


@require_POST
@role_required(SUPERVISORS)
def rule_delete(request: AgentRequest, rule_id: int) -> HttpResponse:
    return _done(
        request,
        lambda: teams.do_delete_rule(rule_id, agent=request.agent),
        lambda done: _("Rule deleted."),
    )


@require_POST
@role_required(SUPERVISORS)
def agent_languages(request: AgentRequest, agent_id: int) -> HttpResponse:
    member = access_agent(request.agent, agent_id)
    raw = request.POST.get("languages", "")
    return _done(
        request,
        lambda: teams.do_set_languages(member, raw, agent=request.agent),
        lambda codes: f"{member.name} answers in: {', '.join(codes) or 'no language set'}.",
    )
