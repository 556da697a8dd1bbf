"""Notifications in the top bar (issue 21): the one writer of Notification rows.

1. Written in the transaction of what they tell (inbox.actions calls `notify` beside its
   Event): a reply X refused for good (a DM: "DM refused"), a note that @mentions a
   colleague, a thread a supervisor hands to someone. Never to the one who acted.
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

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from inbox.live import version
from inbox.models import Channel, Notification, Reply, Thread
from inbox.rules import reasons
from twelp import i18n

if TYPE_CHECKING:
    from agents.models import Agent

Kind = Notification.Kind


def notify(
    agents: Iterable[Agent], kind: str, *, thread: Thread | None, text: str | Callable[[], str]
) -> int:
    """One notification to each active employee of `agents`; how many were written.
    `text` is called once per reader in their language (docstring, 5)."""
    rows = [
        Notification(agent=agent, kind=kind, thread=thread, text=_words(agent, text)[:300])
        for agent in agents
        if agent is not None and agent.is_active
    ]
    if not rows:
        return 0
    Notification.objects.bulk_create(rows)
    by_brand: dict[int, list[int]] = {}
    for row in rows:
        by_brand.setdefault(row.agent.brand_id, []).append(row.agent_id)
    for brand_id, ids in by_brand.items():
        transaction.on_commit(lambda b=brand_id, a=ids: version.bump(b, [], agents=a))
    return len(rows)


def _words(agent: Agent, text: str | Callable[[], str]) -> str:
    if isinstance(text, str):
        return text
    with translation.override(i18n.language_of(agent)):
        return str(text())


def reply_refused(reply: Reply, thread: Thread, reason: reasons.Reason | str) -> None:
    """X refused `reply` for good: its author is told, with what to do, the reason in
    their language (inbox.rules.reasons)."""
    handle = thread.customer.handle

    def text() -> str:
        if reply.channel == Channel.DM:
            said = _("X refused your DM to @%(handle)s") % {"handle": handle}
        else:
            said = _("X refused your reply to @%(handle)s") % {"handle": handle}
        why = " ".join(reasons.words(reason).split())[:140]
        said += f" ({why})." if why else "."
        return said + " " + _("Your words are back in the reply box: change them and send again.")

    kind = Kind.DM_REFUSED if reply.channel == Channel.DM else Kind.REPLY_FAILED
    notify([reply.agent], kind, thread=thread, text=text)


def mentioned(note_author: Agent, colleagues: list[Agent], thread: Thread) -> None:
    def text() -> str:
        return _("%(name)s mentioned you in a note on @%(handle)s's thread.") % {
            "name": note_author.name,
            "handle": thread.customer.handle,
        }

    notify(
        [c for c in colleagues if c.id != note_author.id], Kind.MENTIONED, thread=thread, text=text
    )


def reassigned(thread: Thread, *, to: Agent, actor: Agent) -> None:
    if to.id == actor.id:
        return

    def text() -> str:
        return _("%(name)s assigned you the thread with @%(handle)s.") % {
            "name": actor.name,
            "handle": thread.customer.handle,
        }

    notify([to], Kind.REASSIGNED, thread=thread, text=text)


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
