"""Per-employee throttling of the expensive endpoints (the reply box's personal-data check,
the collision warnings' polls and typing pings, the audit CSV and customer data exports,
search) and of everything that posts as the brand (send, send & close, move to DM: `posts`).

Each employee has a counter per endpoint kind (`scope`) and per minute in Redis (one
INCR + EXPIRE, in one round trip); past the scope's limit the request gets 429 with a
sentence saying what happened and a Retry-After (the seconds left in the minute). The
limits are settings (THROTTLE_*_PER_MINUTE, .env.example), generous enough that an
employee's own pages never reach them: they stop a script or a stuck tab hammering one
session, not the work. 0 turns a scope's throttling off.

What the employee sees (`answer`): htmx's requests get the sentence as text/plain, which
twelp.js shows in a notice at the top of the page, swapping nothing (a typed reply stays
as it is); a page or form the browser loads itself (it accepts text/html) gets the same
sentence in a page of its own (429.html) with a link back to where it came from, and, for
a form it posted, that form again with everything it sent, to send once the wait is over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PERIOD = 60  # seconds: the limits are per minute

# scope -> (setting with its limit, what the employee did too often)
SCOPES = {
    "reply_check": ("THROTTLE_REPLY_CHECK_PER_MINUTE", "checked a draft reply"),
    "viewers": ("THROTTLE_VIEWERS_PER_MINUTE", "asked who else is viewing"),
    "typing": ("THROTTLE_TYPING_PER_MINUTE", "sent a typing signal"),
    "audit_csv": ("THROTTLE_AUDIT_CSV_PER_MINUTE", "exported the audit trail"),
    "customer_export": ("THROTTLE_CUSTOMER_EXPORT_PER_MINUTE", "exported a customer's data"),
    # Per API token, not per employee (inbox.api.auth): its 429 is a JSON problem body.
    "api": ("THROTTLE_API_PER_MINUTE", gettext_lazy("called the API")),
    "search": ("THROTTLE_SEARCH_PER_MINUTE", gettext_lazy("searched")),
    "context": ("THROTTLE_SEARCH_PER_MINUTE", gettext_lazy("asked for a conversation's context")),
    # Everything that posts as the brand (send, send & close, move to DM, a DM thread's send):
    # the limit a script in a hijacked session meets (issue 22).
    "posts": ("THROTTLE_POSTS_PER_MINUTE", gettext_lazy("posted as the brand")),
}
# Added to the sentence where the refused request would have acted: it did not.
NOTHING_DONE = {"posts": gettext_lazy("Nothing was posted; what you wrote is kept.")}


def limit(scope: str) -> int:
    return getattr(settings, SCOPES[scope][0])


def check(scope: str, agent_id: int) -> HttpResponse | None:
    """Count this request of the employee in `scope`: None while within the limit, else
    the 429 to answer."""
    wait = over_limit(scope, agent_id)
    return None if wait is None else too_many(scope, limit(scope), wait)


def over_limit(scope: str, key: int | str) -> int | None:
    """Count one request of `key` (an employee's id, an API token's) in `scope`: None
    while within the limit, else the seconds until the next minute lets it through."""
    allowed = limit(scope)
    if allowed <= 0:
        return None
    now = _now()
    window = int(now // PERIOD)
    counter = cache.make_key(f"throttle:{scope}:{key}:{window}")
    client = cache._cache.get_client(counter, write=True)
    pipe = client.pipeline(transaction=False)
    pipe.incr(counter)
    pipe.expire(counter, PERIOD + 1)
    count, _ = pipe.execute()
    if count <= allowed:
        return None
    return max(1, int((window + 1) * PERIOD - now + 0.999))


def _now() -> float:
    return time.time()  # tests move the clock here


def too_many(scope: str, allowed: int, wait: int) -> HttpResponse:
    did = SCOPES[scope][1]
    response = HttpResponse(
        " ".join(
            str(said)
            for said in (
                _("Too many requests: you %(did)s more than %(allowed)s times in a minute.")
                % {"did": did, "allowed": allowed},
                _("Please wait %(wait)s seconds and try again.") % {"wait": wait},
                NOTHING_DONE.get(scope, ""),
            )
            if said
        ),
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(wait)
    return response


def answer(request: HttpRequest, refused: HttpResponse) -> HttpResponse:
    """The 429 for this request (module docstring): as it is for htmx and other clients,
    or as a page for the browser's own navigations and form posts."""
    accepts = request.headers.get("Accept", "")
    if request.headers.get("HX-Request") or "text/html" not in accepts:
        return refused
    back = request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    fields = []
    if request.method == "POST":
        # A token or a number goes back hidden; text is shown, to be read and sent again.
        fields = [
            (name, value, len(value) <= 64 and not any(c.isspace() for c in value))
            for name, values in request.POST.lists()
            if name != "csrfmiddlewaretoken"
            for value in values
        ]
    context = {
        "message": refused.content.decode(),
        "back": back,
        "fields": fields,
        "action": request.get_full_path(),
        "wait": refused["Retry-After"],
    }
    page = render(request, "429.html", context, status=429)
    page["Retry-After"] = refused["Retry-After"]
    return page


View = Callable[..., HttpResponse]


def throttled(scope: str) -> Callable[[View], View]:
    """For a view under role_required (request.agent is the employee): at most the
    scope's limit of requests a minute per employee."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            refused = check(scope, request.agent.id)  # type: ignore[attr-defined]
            if refused is not None:
                return answer(request, refused)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
