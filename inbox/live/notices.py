"""The top bar's notifications, read (issue 21; written by inbox.notifications).

1. Per employee, never another's: every read here is filtered by the agent's id, and an
   agent belongs to one brand, so no brand sees another's.
2. `badge(agent_id)` is what a page shows and what the push process sends (`event:
   notices`, inbox.live.hub, 9) or the page's poll fetches when the push is down: the
   unread count and the newest unread one (id, words, link), as JSON. `badges` does it for
   many employees in one query.
3. The text of a notification is Twelp's own sentence (names of colleagues, never a
   customer's words), and the page puts it in with textContent, never as HTML.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import translation

from inbox.models import Notification
from inbox.rules import reasons


def unread_count(agent_id: int) -> int:
    return Notification.objects.filter(agent_id=agent_id, read_at__isnull=True).count()


def badges(agent_ids: Iterable[int]) -> dict[int, str]:
    """{agent id: badge JSON} for each of `agent_ids` (docstring, 2): two queries in all."""
    ids = set(agent_ids)
    counts = dict.fromkeys(ids, (0, None))
    rows = (
        Notification.objects.filter(agent_id__in=ids, read_at__isnull=True)
        .values("agent_id")
        .annotate(n=Count("id"), newest=Max("id"))
    )
    for row in rows:
        counts[row["agent_id"]] = (row["n"], row["newest"])
    newest = {
        n.id: n
        for n in Notification.objects.select_related("agent").filter(
            id__in=[newest for _, newest in counts.values() if newest is not None]
        )
    }
    return {agent_id: _json(n, newest.get(last)) for agent_id, (n, last) in counts.items()}


def badge(agent_id: int) -> str:
    return badges([agent_id])[agent_id]


def _json(unread: int, newest: Notification | None) -> str:
    data: dict[str, object] = {"unread": unread}
    if newest is not None:
        data["newest"] = {"id": newest.id, "text": _text(newest), "url": link(newest)}
    return json.dumps(data, separators=(",", ":"))


def _text(notification: Notification) -> str:
    """Its words (inbox.notifications.words): in the request's language on a page's poll;
    in the employee's pick, else as written, from the push process (no request)."""
    if not notification.params:
        return notification.text
    language = getattr(notification.agent, "language", "") or translation.get_language()
    with translation.override(language):
        return reasons.notice(notification.kind, notification.params) or notification.text


def link(notification: Notification) -> str:
    """Where the notification's subject is: its thread, or the list."""
    if notification.thread_id is not None:
        return reverse("inbox:thread", args=[notification.thread_id])
    return reverse("inbox:notifications")


def listed(agent_id: int, *, before: tuple | None = None, limit: int = 50) -> list[Notification]:
    """The employee's notifications, newest first, `limit` of them (keyset: `before` is
    the (created_at, id) of the last one shown)."""
    rows = Notification.objects.filter(agent_id=agent_id)
    if before is not None:
        at, last_id = before
        rows = rows.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=last_id))
    return list(rows.select_related("thread").order_by("-created_at", "-id")[:limit])
