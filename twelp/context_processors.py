"""Values every template may read."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def push(request: HttpRequest) -> dict[str, str]:
    """Where pages open their event stream (inbox.views.push; static/js/twelp.js)."""
    return {"PUSH_URL": settings.PUSH_URL}


def notices(request: HttpRequest) -> dict[str, object]:
    """The employee's unread notifications for the top bar (issue 21): a callable, so the
    count is read only when a page shows the top bar for an employee."""
    from inbox.live.notices import unread_count

    def unread() -> int:
        agent = getattr(request, "agent", None)
        return unread_count(agent.id) if agent is not None else 0

    return {"unread_notices": unread}
