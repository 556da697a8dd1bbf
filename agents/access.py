"""Who may use a view, said in one place: every view is decorated with `role_required`
(employees) or `anyone` (public pages: registration, password reset).

Roles are also Django groups with permissions (agents.roles), but the check here reads
`Agent.role`: the Agent row is loaded for every request anyway (`request.agent`), so the
role costs no query, while `user.has_perm` would add one to every live refresh of the
queue. The actions that change a role change the group in the same transaction, and
tests/agents/test_roles.py checks that both agree.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from agents import twofactor
from agents.models import Agent, AgentState, Membership, Role
from twelp import i18n

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    class AgentRequest(HttpRequest):
        user: User
        agent: Agent
else:
    AgentRequest = HttpRequest

View = Callable[..., HttpResponse]

ANY_EMPLOYEE = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)  # also approve and reject registrations
ADMINS = (Role.ADMIN,)  # also manage employees and the brand's settings
ANYONE = ("anyone",)  # no login needed


def role_required(roles: tuple[str, ...]) -> Callable[[View], View]:
    """Logged in, an active employee, and one of `roles`; else login page or 403.

    A registration still waiting for approval gets the "waiting for approval" page (403):
    they may log in, but see nothing of the brand until a supervisor approves them.
    """

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            agent = _agent_of(request.user)
            if agent is not None and agent.state == AgentState.PENDING:
                return render(request, "agents/waiting.html", {"agent": agent}, status=403)
            if not allowed(agent, roles):
                raise PermissionDenied(_("Your account may not use this page."))
            step = twofactor.next_step(request, agent)  # type: ignore[arg-type]
            if step is not None:  # enrol or pass the second factor first (agents.twofactor)
                return _second_factor_first(request, step)
            request.agent = agent  # type: ignore[attr-defined]
            # Their own language, when they picked one (issue 21; twelp.i18n).
            i18n.activate_for(request, agent)
            # Dates and times in the employee's own zone (issue 21; Agent.zone).
            with timezone.override(agent.zone):  # type: ignore[union-attr]
                return view(request, *args, **kwargs)

        wrapper.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapper

    return decorator


def allowed(agent: Agent | None, roles: tuple[str, ...]) -> bool:
    """role_required's rule for a logged-in user's Agent: active, and one of `roles`."""
    return agent is not None and agent.is_active and agent.role in roles


def employee_of(request: HttpRequest, roles: tuple[str, ...]) -> Agent | None:
    """role_required's rule without its answers (login page, waiting page): the request's
    Agent when it may use a view for `roles`, else None (inbox.views.push, one check per
    stream)."""
    if not request.user.is_authenticated:
        return None
    agent = _agent_of(request.user)  # type: ignore[arg-type]
    if not allowed(agent, roles):
        return None
    if twofactor.next_step(request, agent) is not None:  # type: ignore[arg-type]
        return None
    return agent


def _second_factor_first(request: HttpRequest, step: str) -> HttpResponse:
    url = reverse(step) + "?" + urlencode({"next": request.get_full_path()})
    if getattr(request, "htmx", False):  # a fragment request: the whole page goes there
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _agent_of(user: User) -> Agent | None:
    """The user's Agent: already loaded with the user (agents.backends), else one query."""
    try:
        return user.agent  # type: ignore[attr-defined]
    except Agent.DoesNotExist:
        return None


def anyone(view: View) -> View:
    """A public page: no login needed (it says so here rather than by omission)."""
    view.allowed_roles = ANYONE  # type: ignore[attr-defined]
    return view


def access_agent(actor: Agent, agent_id: int, *, lock: bool = False) -> Agent:
    """The employee `agent_id` of the actor's brand; 404 for another brand's or no one.

    With lock=True, the row is locked (the caller holds a transaction).
    """
    rows = Agent.objects.select_related("user", "brand")
    if lock:
        rows = rows.select_for_update(of=("self",))
    agent = rows.filter(id=agent_id, brand_id=actor.brand_id).first()
    if agent is None:
        raise Http404(_("No such employee."))
    return agent


def access_member(actor: Agent, agent_id: int, *, lock: bool = False) -> Agent:
    """The employee `agent_id` working in the actor's brand now, or one of its members
    (issue 16: they may be working in another brand of theirs); 404 for anyone else."""
    rows = Agent.objects.select_related("user", "brand")
    if lock:
        rows = rows.select_for_update(of=("self",))
    mine = Q(brand_id=actor.brand_id) | Q(
        id__in=Membership.objects.filter(brand_id=actor.brand_id).values("agent_id")
    )
    agent = rows.filter(mine, id=agent_id).first()
    if agent is None:
        raise Http404("No such employee.")
    return agent
