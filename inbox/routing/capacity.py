"""How many threads an agent may hold at once, and the check that keeps them under it.

1. The cap is the agent's own (Agent.max_held) when set, else the brand's (Brand.max_held).
2. Every claim an agent makes for themselves (a named claim, "claim next") first locks
   their Agent row (`FOR NO KEY UPDATE`: foreign-key checks, which take KEY SHARE, never
   wait on it), then counts what they hold (index thread_claims): two claims by the same
   agent at once are serialised, so the count cannot be passed by a race. Claims by
   different agents never wait on each other.
3. Past the cap a claim is refused (`AtCapacity`, saying what to do); a supervisor's
   reassign is not refused, and says that the agent is now past it.
4. A reopened thread goes back to the agent who answered it only while they `takes_back`:
   online (inbox.live.presence) and under their cap; else it is the team's at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import connection
from django.utils.translation import ngettext

from inbox.errors import ActionError
from inbox.live import presence
from inbox.models import Thread, ThreadStatus

if TYPE_CHECKING:
    from agents.models import Agent


class AtCapacity(ActionError):
    """The agent holds as many threads as they may."""


def cap(agent: Agent) -> int:
    return agent.max_held if agent.max_held is not None else agent.brand.max_held


def held(agent_id: int) -> int:
    return Thread.objects.filter(claimed_by_id=agent_id, status=ThreadStatus.CLAIMED).count()


# Lock the agent's row, then count (the count runs after the lock is granted, in a
# snapshot of its own, so it sees a concurrent claim that just committed). "Claim next"
# sends LOCK_SQL in its pipeline (inbox.actions).
LOCK_SQL = "SELECT 1 FROM agents_agent WHERE id = %s FOR NO KEY UPDATE"


def lock_agent(agent_id: int) -> None:
    """In the caller's transaction: wait for the agent's other claims to commit."""
    with connection.cursor() as cursor:
        cursor.execute(LOCK_SQL, [agent_id])


def check_room(agent: Agent) -> int:
    """Lock the agent (`lock_agent`) and raise AtCapacity if they hold their cap; else
    the number they hold."""
    lock_agent(agent.id)
    return refuse_if_full(agent)


def refuse_if_full(agent: Agent) -> int:
    """Raise AtCapacity if the agent holds their cap; else the number they hold. Without
    the lock: what "claim next" asks after a claim that took nothing (full or empty?)."""
    count, limit = held(agent.id), cap(agent)
    if count >= limit:
        raise AtCapacity(
            ngettext(
                "You hold %(count)s thread, your limit of %(limit)s: answer, close or "
                "release it before you take another.",
                "You hold %(count)s threads, your limit of %(limit)s: answer, close or "
                "release one before you take another.",
                count,
            )
            % {"count": count, "limit": limit}
        )
    return count


# The active agents of `ids` under their cap, in one statement (the count by index
# thread_claims).
_UNDER_CAP = """
SELECT a.id FROM agents_agent a JOIN inbox_brand b ON b.id = a.brand_id
WHERE a.id = ANY(%s) AND a.state = 'active'
    AND (SELECT count(*) FROM inbox_thread t
         WHERE t.claimed_by_id = a.id AND t.status = 'claimed') < COALESCE(a.max_held, b.max_held)
"""


def takes_back(brand_id: int, agent_ids: Iterable[int | None]) -> set[int]:
    """Of `agent_ids` (None ignored), the agents online now with room for one more thread."""
    online = set(presence.last_seen(brand_id, {i for i in agent_ids if i is not None}))
    if not online:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(_UNDER_CAP, [sorted(online)])
        return {row[0] for row in cursor.fetchall()}
