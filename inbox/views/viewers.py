"""Collision warnings' pages: who else views or types on a thread, for the thread page
and the queue's rows (inbox.live.viewers keeps them in Redis; no PostgreSQL here).

Who is asking comes from the session (in Redis): the [brand, agent] pair that
inbox.live.presence's middleware stores, and the name stored here on the first request,
which goes through the login check once (`employee`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from agents.access import ANY_EMPLOYEE, role_required
from inbox.live import presence
from inbox.live.viewers import touch, viewers
from inbox.views.guards import viewer

NAME_KEY = "viewer_name"  # the employee's name, for the labels others see
MAX_THREADS = 100  # a queue page's rows, with room to spare


Who = tuple[int, int, str]  # brand id, agent id, name


def employee(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Any active employee (role_required(ANY_EMPLOYEE)), checked once per session: the
    first request goes through the login check and stores who they are in the session
    (inbox.live.presence keeps [brand, agent] there too); the next ones read only Redis."""

    @role_required(ANY_EMPLOYEE)
    def checked(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        agent = request.agent  # type: ignore[attr-defined]
        request.session[presence.SESSION_KEY] = [agent.brand_id, agent.id]
        request.session[NAME_KEY] = agent.name
        return view(request, (agent.brand_id, agent.id, agent.name), *args, **kwargs)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        who, name = request.session.get(presence.SESSION_KEY), request.session.get(NAME_KEY)
        if who and name:
            return view(request, (who[0], who[1], name), *args, **kwargs)
        return checked(request, *args, **kwargs)

    wrapper.allowed_roles = ANY_EMPLOYEE  # type: ignore[attr-defined]
    return wrapper


@require_GET
@employee
@viewer("viewers")
def thread_viewers(request: HttpRequest, who: Who, thread_id: int) -> HttpResponse:
    """The thread page asks every 2 s: it is open (so: viewing), and who else has it."""
    brand_id, agent_id, name = who
    touch(brand_id, thread_id, agent_id, name)
    presence.seen(brand_id, agent_id)  # an open thread counts as online (inbox.ingest.autoreply)
    others = viewers(brand_id, [thread_id], besides=agent_id).get(thread_id, [])
    return render(request, "inbox/viewers.html#thread", {"others": others})


@require_POST
@employee
@viewer("typing")
def typing(request: HttpRequest, who: Who, thread_id: int) -> HttpResponse:
    """A keystroke in the reply box (throttled to one ping per 2 s by the page)."""
    brand_id, agent_id, name = who
    touch(brand_id, thread_id, agent_id, name, typing=True)
    return HttpResponse(status=204)


@require_GET
@employee
@viewer("viewers")
def queue_viewers(request: HttpRequest, who: Who) -> HttpResponse:
    """The queue asks every 2 s for its rows' threads (`t`: ids, comma-separated)."""
    brand_id, agent_id, _ = who
    ids = [int(part) for part in request.GET.get("t", "").split(",") if part.isdigit()]
    found = viewers(brand_id, ids[:MAX_THREADS], besides=agent_id)
    rows = [(thread_id, ", ".join(v.label for v in people)) for thread_id, people in found.items()]
    return render(request, "inbox/viewers.html#queue", {"rows": rows})
