"""The push endpoint: one server-sent event stream per open page, served by the push
process (`uvicorn twelp.asgi:application`), fed by its hub (inbox.live.hub).

1. The employee is checked once, from the session, by role_required's rule (an active
   employee of a brand; the dashboard for supervisors): a logged-out session gets 403, a
   thread of another brand 404, never a stream. The hub re-checks every few seconds and
   closes the stream of someone deactivated or logged out.
2. `GET /push/events/?view=queue&status=<status>[&source=<id>]`, `?view=dashboard`,
   `?view=thread&thread=<id>`: `event: live`, `id:` the change id it reflects, `data:` the
   HTML of the view's live part, as a full page shows it there; first the current state.
3. A page that reconnects sends the last id it applied (`Last-Event-ID`, which
   EventSource sends by itself, or `?last_event_id=`): if the brand's change log still
   holds it, the stream carries on with the current state and the newest id; a garbage,
   forged, future or trimmed id gets `event: reload` and the stream ends (the page then
   opens a fresh one).
4. What differs per employee is applied here with a string replace (the CSRF token) or on
   the page (their claims are styled by data-holder, their own viewing left out of the
   `viewers` events); nothing is rendered per employee.
5. `&patch=1` (twelp.js asks for it): after the first message, a change that touched only
   some rows or marked parts comes as `event: patch` (JSON, inbox.live.patch) applying to
   the message before it on this connection; without it every message is the whole part
   (older pages, other clients).
6. `retry:` (how long EventSource waits before reconnecting) is drawn per connection
   between RETRY_MS: after a push process restarts, its pages come back spread out
   rather than all in the same second.
7. `&notices=1` (issue 21): the stream also carries `event: notices`, the employee's own
   unread notifications (inbox.live.hub, 9); `?view=notices` is a stream of them alone,
   for pages with no live part.
8. Each stream is of one language (issue 21, `in_language`): the employee's pick, else
   the browser's; the hub renders a view once per language.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import redis
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.utils import translation
from django.views.decorators.http import require_GET

from agents.access import ANY_EMPLOYEE, SUPERVISORS, employee_of
from agents.models import Agent
from inbox.live import fragments
from inbox.live.hub import Stream, View, hub, message, run
from inbox.views import queue, supervision, thread
from twelp import i18n

RETRY_MS = (1000, 3000)

# view name -> (roles, the View for this employee and these parameters)
VIEWS: dict[str, tuple[tuple[str, ...], Callable[[Agent, QueryDict], View]]] = {
    "queue": (ANY_EMPLOYEE, queue.live_view),
    "dashboard": (SUPERVISORS, supervision.live_view),
    "thread": (ANY_EMPLOYEE, thread.live_view),
    # A page with no live part: only the notifications (issue 21; hub docstring, 9).
    "notices": (ANY_EMPLOYEE, lambda agent, params: View(("notices",), _nothing, silent=True)),
}


def _nothing(agent: Agent) -> str:
    return ""


@require_GET
async def events(request: HttpRequest) -> HttpResponse:
    opened = await run(_open, request)
    if isinstance(opened, HttpResponse):
        return _cors(request, opened)
    if not isinstance(request, ASGIRequest):
        # Under WSGI (gunicorn, runserver, the tests' live server) a stream would be
        # buffered whole and never sent, while its hub kept its employee "viewing". 204
        # tells EventSource not to reconnect: the page polls, as behind a buffering proxy.
        return _cors(request, HttpResponse(status=204))
    stream = opened
    last_id = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    response = StreamingHttpResponse(_body(stream, last_id), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return _cors(request, response)


events.allowed_roles = ANY_EMPLOYEE  # type: ignore[attr-defined]


def _open(request: HttpRequest) -> Stream | HttpResponse:
    """The stream of this request's employee, or the answer refusing it (docstring, 1)."""
    roles, view_for = VIEWS.get(request.GET.get("view", "queue"), (None, None))
    if view_for is None:
        return HttpResponse("No such view.", status=404, content_type="text/plain")
    agent = employee_of(request, roles)
    if agent is None:
        return HttpResponse("Log in as an active employee.", status=403, content_type="text/plain")
    try:
        view = in_language(view_for(agent, request.GET), _language(request, agent))
    except Http404:
        return HttpResponse("No such thread.", status=404, content_type="text/plain")
    session_key = request.session.session_key or ""
    patches = request.GET.get("patch") == "1"
    notices = request.GET.get("notices") == "1"
    return Stream(agent, view, get_token(request), session_key, patches=patches, notices=notices)


def _language(request: HttpRequest, agent: Agent) -> str:
    """The stream's language (issue 21): the employee's pick, else their browser's."""
    if agent.language in i18n.CODES:
        return agent.language
    return translation.get_language_from_request(request)


def in_language(view: View, code: str) -> View:
    """`view` rendered in language `code`: its name (and so the hub's render, which all
    its streams share, and the fragments' cache entry) and its banner's key carry the
    language, so an English page never gets a Spanish render, nor the reverse."""

    def render(agent: Agent) -> str:
        with translation.override(code):
            return view.render(agent)

    banner = view.banner
    if banner is not None:

        def banner_render(agent: Agent, render=banner.render) -> str:
            with translation.override(code):
                return render(agent)

        banner = replace(banner, render=banner_render, key=(code, *banner.key))
    return replace(view, name=(code, *view.name), render=render, banner=banner)


async def _body(stream: Stream, last_id: str | None) -> AsyncIterator[str]:
    live = hub()
    try:
        yield f"retry: {random.randint(*RETRY_MS)}\n\n"  # noqa: S311 - reconnect jitter, not a secret
        try:
            if last_id is not None and not await live.resumable(stream.agent.brand_id, last_id):
                yield message("reload", "This page's state is no longer in the change log.")
                return
            await live.subscribe(stream, last_id)
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            yield message("reload", "The change log cannot be read now.")
            return
        async for out in stream.messages():
            yield fragments.with_token(out, stream.token)
    finally:
        live.unsubscribe(stream)


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Pages served by the web at another origin (settings.PUSH_URL absolute) open their
    stream here with the session cookie: allowed for PUSH_ALLOWED_ORIGINS only."""
    origin = request.headers.get("Origin")
    if origin and origin in settings.PUSH_ALLOWED_ORIGINS:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Vary"] = "Origin"
    return response


@require_GET
async def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and probes: the push process answers (no database, no Redis)."""
    return HttpResponse("ok", content_type="text/plain")


healthz.allowed_roles = ("anyone",)  # type: ignore[attr-defined]
