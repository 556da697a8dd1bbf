"""Who may use a view, said in one place: every view is decorated with `role_required`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from agents.models import Agent, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    class AgentRequest(HttpRequest):
        user: User
        agent: Agent
else:
    AgentRequest = HttpRequest

View = Callable[..., HttpResponse]

ANY_EMPLOYEE = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
ADMINS = (Role.ADMIN,)


def role_required(roles: tuple[str, ...]) -> Callable[[View], View]:
    """Logged in, an active employee, and one of `roles`; else login page or 403."""

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            agent = Agent.objects.filter(user=request.user).select_related("brand").first()
            if agent is None or not agent.is_active or agent.role not in roles:
                raise PermissionDenied("Your account may not use this page.")
            request.agent = agent  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapper

    return decorator
