"""Notifications in the top bar (issue 21): the one writer of Notification rows.

1. Written in the transaction of what they tell (inbox.actions calls `notify` beside its
   Event): a reply X refused for good (a DM: "DM refused"), a note that @mentions a
   colleague, a thread a supervisor hands to someone. Never to the one who acted. The
   threads auto-assignment gives Available employees are told just after (`came_to`).
2. After commit the brand's change log names the employees notified (`a<id>`,
   inbox.live.version); the push process sends each of them, and no one else, their new
   unread count (inbox.live.hub, 9); pages without the push poll the badge
   (inbox.views.notices).
3. `mark_read` marks one employee's own notifications read: the ids given, or all. The
   filter on the agent is what keeps one employee from touching another's.
4. The words are Twelp's: colleagues' names, the customer's @handle, X's short reason;
   never a tweet's text.
5. Each is written in its reader's language (issue 21): their pick on My profile, else the
   site's default (a notification is written before anyone's browser asks for it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone, translation

from inbox.live import version
from inbox.models import Channel, Notification, Reply, Thread
from inbox.rules import reasons
from twelp import i18n

if TYPE_CHECKING:
    from agents.models import Agent

Kind = Notification.Kind


def notify(
    agents: Iterable[Agent],
    kind: str,
    *,
    thread: Thread | None,
    params: dict[str, object] | None = None,
    text: str = "",
) -> int:
    """One notification to each active employee of `agents`; how many were written. Its
    words are rendered from `kind` and `params` whenever it is read, in the reader's
    language (`words`, inbox.rules.reasons.notice); `text` keeps them in the reader's
    language at write time (docstring, 5), for readers without a request (the push).
    A caller with no params gives the `text` itself."""
    rows = [
        Notification(
            agent=agent,
            kind=kind,
            thread=thread,
            params=params,
            text=_words(agent, kind, params) if params else text[:300],
        )
        for agent in agents
        if agent is not None and agent.is_active
    ]
    return _write(rows)


def came_to(assigned: Iterable[tuple[int, Agent]]) -> int:
    """Auto-assignment (inbox.routing.assign) gave each of these Available employees the
    thread of its id: each is told, wherever they are (the top bar's badge and a toast
    with a link), in one write for the run. After the assignments' commits: a crash
    between them loses the toast, never the assignment (the thread is in their Mine)."""
    assigned = list(assigned)
    handles = dict(
        Thread.objects.filter(id__in=[t for t, _ in assigned]).values_list("id", "customer__handle")
    )
    kind = Kind.ASSIGNED
    rows = []
    for thread_id, agent in assigned:
        params = {"handle": handles.get(thread_id, "?")}
        text = _words(agent, kind, params)
        rows.append(
            Notification(agent=agent, kind=kind, thread_id=thread_id, params=params, text=text)
        )
    return _write(rows)


def _write(rows: list[Notification]) -> int:
    if not rows:
        return 0
    Notification.objects.bulk_create(rows)
    by_brand: dict[int, list[int]] = {}
    for row in rows:
        by_brand.setdefault(row.agent.brand_id, []).append(row.agent_id)
    for brand_id, ids in by_brand.items():
        transaction.on_commit(lambda b=brand_id, a=ids: version.bump(b, [], agents=a))
    return len(rows)


def _words(agent: Agent, kind: str, params: dict[str, object]) -> str:
    with translation.override(i18n.language_of(agent)):
        return reasons.notice(kind, params)[:300]


def words(notification: Notification) -> str:
    """The notification in the active language; one written before params, as written."""
    if notification.params:
        return reasons.notice(notification.kind, notification.params) or notification.text
    return notification.text


def reply_refused(reply: Reply, thread: Thread, reason: reasons.Reason | str) -> None:
    """X refused `reply` for good: its author is told, with what to do, the reason in
    their language (inbox.rules.reasons)."""
    kind = Kind.DM_REFUSED if reply.channel == Channel.DM else Kind.REPLY_FAILED
    params = {"handle": thread.customer.handle, "reason": reason}
    notify([reply.agent], kind, thread=thread, params=params)


def mentioned(note_author: Agent, colleagues: list[Agent], thread: Thread) -> None:
    params = {"name": note_author.name, "handle": thread.customer.handle}
    others = [c for c in colleagues if c.id != note_author.id]
    notify(others, Kind.MENTIONED, thread=thread, params=params)


def reassigned(thread: Thread, *, to: Agent, actor: Agent) -> None:
    if to.id == actor.id:
        return
    params = {"name": actor.name, "handle": thread.customer.handle}
    notify([to], Kind.REASSIGNED, thread=thread, params=params)


@transaction.atomic(durable=True)
def mark_read(agent: Agent, ids: Iterable[int] | None = None) -> int:
    """Marks the employee's own unread notifications read (`ids`, or all); how many."""
    rows = Notification.objects.filter(agent_id=agent.id, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(id__in=list(ids))
    changed = rows.update(read_at=timezone.now())
    if changed:
        transaction.on_commit(lambda: version.bump(agent.brand_id, [], agents=[agent.id]))
    return changed
