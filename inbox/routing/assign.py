"""Work that comes to you: threads assigned to Available agents as they have room.

1. An agent sets themselves Available (`do_set_available`, Agent.available_since) beside
   "Claim next"; an Event `availability_changed` says so. Going away (or being seen
   offline by `sweep_away`) ends it and hands back every assigned thread they have not
   opened yet (actions.hand_back_unstarted, an Event `assignment_returned` each).
2. `assign_waiting(brand)` runs after every commit that frees room or queues a thread
   (a thread arrives or reopens, a claim is released, expires, answered or closed; an
   agent sets Available: inbox.schedule.assign) and on a beat as a backstop. It takes the
   brand's Available agents who are online (inbox.live.presence), least recently assigned
   first (index agent_available_turn), and gives each the next thread of their teams in
   the offer order of "claim next" (actions.do_assign_next: one round trip, an Event
   `assigned` each, and a notification: inbox.notifications.came_to);
   an agent who got one goes to the back of the line, one who got none drops out. It
   stops when every agent is full or has nothing waiting for them.
3. Races are the database's: each assignment locks the agent's row (SKIP LOCKED: an
   agent being served by another assigner, or claiming for themselves, is skipped, not
   waited for) and then counts what they hold, so nobody passes their cap; the thread is
   taken with SKIP LOCKED by a compare-and-set on status = 'open', so it is assigned once.
   Fairness across concurrent assigners is by turn order, not strict.
4. In line for one (`do_join_line`, Agent.available_once): when Claim next finds nothing
   an agent may take (at a burst of new mentions most of a large crowd loses the race),
   the agent joins the line instead of clicking again: Available for one thread, served
   in the turn order above (ties: who joined first). The assignment that gives them one
   ends it in the same statement (actions._TURN_CTE), as does a claim of their own
   (actions.do_claim_next, do_claim) or going away. A crowd that would have raced for each new row
   is served one thread each, in order, by one assignment run per brand.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import actions, events, notifications, schedule
from inbox.live import presence
from inbox.models import Brand, Thread, ThreadStatus, Verb

if TYPE_CHECKING:
    from agents.models import Agent

MAX_PER_RUN = 5000  # a run ends; the next commit or beat continues


@transaction.atomic(durable=True)
def do_set_available(agent: Agent, *, available: bool, reason: str = "") -> int:
    """Set `agent` Available or away. Going away hands back their unstarted assignments:
    how many. Setting Available schedules an assignment run."""
    from agents.models import Agent as AgentModel

    row = AgentModel.objects.select_for_update(no_key=True).get(id=agent.id)
    if available and not row.is_active:
        raise actions.ActionError(_("Only an active employee takes work."))
    # In line (4. below) is not Available: going Available or away from it changes state.
    was = row.available_since is not None and not row.available_once
    changed = was != available or row.available_once
    since = (row.available_since or timezone.now()) if available else None
    AgentModel.objects.filter(id=agent.id).update(available_since=since, available_once=False)
    agent.available_since, agent.available_once = since, False
    returned = 0 if available else actions.hand_back_unstarted(row, reason=reason or "away")
    if changed or returned:
        detail = {"available": available, "returned": returned}
        events.record(
            Verb.AVAILABILITY_CHANGED,
            brand_id=agent.brand_id,
            actor=agent if not reason else None,
            agent=agent.id,
            **detail,
            **({"reason": reason} if reason else {}),
        )
    if available:
        schedule.assign(agent.brand_id)
    return returned


@transaction.atomic(durable=True)
def do_join_line(agent: Agent) -> bool:
    """Claim next found nothing for `agent`: they are in line for the next thread of
    their teams (4. above). False (nothing changes) if they are already Available or in
    line, or not an active employee."""
    from agents.models import Agent as AgentModel
    from agents.models import AgentState

    now = timezone.now()
    joined = AgentModel.objects.filter(
        id=agent.id, state=AgentState.ACTIVE, available_since__isnull=True
    ).update(available_since=now, available_once=True)
    if not joined:
        return False
    agent.available_since, agent.available_once = now, True
    events.record(
        Verb.AVAILABILITY_CHANGED,
        brand_id=agent.brand_id,
        actor=agent,
        agent=agent.id,
        available=True,
        line=True,
    )
    schedule.assign(agent.brand_id)
    return True


# The brand's Available, active agents with room, in turn order (index
# agent_available_turn). What each holds is counted in one pass over the brand's claimed
# threads (partial index thread_claim_leases), not a count per agent: with statistics
# taken before the claims (a fresh ANALYZE), a per-agent subquery was planned as a scan
# of every claim for each agent (3.3 s for 700 agents at 3,500 claims).
_TURN_ORDER = """
SELECT a.id FROM agents_agent a
JOIN inbox_brand b ON b.id = a.brand_id
LEFT JOIN (SELECT claimed_by_id, count(*) AS n FROM inbox_thread
           WHERE brand_id = %(brand)s AND status = 'claimed' GROUP BY claimed_by_id) h
    ON h.claimed_by_id = a.id
WHERE a.brand_id = %(brand)s AND a.available_since IS NOT NULL AND a.state = 'active'
    AND COALESCE(h.n, 0) < COALESCE(a.max_held, b.max_held)
ORDER BY a.brand_id, a.last_assigned_at NULLS FIRST, a.available_since, a.id
"""


def turn_order(brand_id: int) -> list[int]:
    """The brand's Available agents online now with room, least recently assigned first
    (ties: who became Available or joined the line first)."""
    with connection.cursor() as cursor:
        cursor.execute(_TURN_ORDER, {"brand": brand_id})
        ids = [row[0] for row in cursor.fetchall()]
    online = presence.last_seen(brand_id, ids)
    return [i for i in ids if i in online]


def anything_waiting(brand_id: int) -> bool:
    """Whether any open thread is in the brand's queue (index thread_offer_order)."""
    return Thread.objects.filter(brand_id=brand_id, status=ThreadStatus.OPEN).exists()


def assign_waiting(
    brand_id: int, *, now: datetime | None = None, limit: int = MAX_PER_RUN
) -> list[tuple[int, int]]:
    """Assign waiting threads to the brand's Available agents (2. above); the (thread id,
    agent id) pairs assigned, in order. A run with an empty queue costs one query; one
    that empties it stops there."""
    if not anything_waiting(brand_id):
        return []
    line = deque(_agents(brand_id, turn_order(brand_id)))
    done: list[tuple[int, Agent]] = []
    while line and len(done) < limit:
        agent = line.popleft()
        thread = actions.do_assign_next(agent, now=now)
        if thread is not None:
            done.append((thread.id, agent))
            line.append(agent)
        elif not anything_waiting(brand_id):
            break
    notifications.came_to(done)  # each is told, on whatever page they are
    return [(thread_id, agent.id) for thread_id, agent in done]


def _agents(brand_id: int, ids: list[int]) -> list[Agent]:
    """The agents `ids`, in that order, loaded once for the run and sharing one Brand (its
    SLA cutoffs are computed once: inbox.rules.sla.for_brand). Whether each is still
    Available, and their cap, each assignment reads again under its lock."""
    from agents.models import Agent as AgentModel

    if not ids:
        return []
    brand = Brand.objects.get(id=brand_id)
    by_id = AgentModel.objects.in_bulk(ids)
    for agent in by_id.values():
        agent.brand = brand
    return [by_id[i] for i in ids if i in by_id]


def sweep_away() -> int:
    """Available agents no longer online go away (1. above); how many."""
    from agents.models import Agent

    gone = 0
    rows = Agent.objects.filter(available_since__isnull=False).values_list("brand_id", "id")
    by_brand: dict[int, list[int]] = {}
    for brand_id, agent_id in rows:
        by_brand.setdefault(brand_id, []).append(agent_id)
    for brand_id, ids in by_brand.items():
        online = presence.last_seen(brand_id, ids)
        for agent in Agent.objects.filter(id__in=[i for i in ids if i not in online]):
            do_set_available(agent, available=False, reason="offline")
            gone += 1
    return gone
