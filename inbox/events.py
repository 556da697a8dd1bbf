"""The audit trail's one writer: every Event row is created here.

1. An Event is written in the caller's transaction: it commits with the change it records,
   or neither does (Zulip's `do_*` functions write their RealmAuditLog row the same way).
2. The dashboard's rollups (inbox.rollups) for its verb are inserted in that transaction.
3. The brand's live version is bumped after commit, so every open page shows the change;
   the bump logs which thread changed (inbox.live.version).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction

from inbox import rollups
from inbox.live import version
from inbox.models import Brand, Event, Thread, Verb

if TYPE_CHECKING:
    from agents.models import Agent


def record(
    verb: Verb,
    *,
    thread: Thread | None = None,
    brand_id: int | None = None,
    actor: Agent | None = None,
    **detail: object,
) -> Event:
    """One Event, of `thread` (its brand's) or of the brand `brand_id` alone."""
    brand_id = thread.brand_id if thread is not None else brand_id
    if brand_id is None:
        raise ValueError("An Event belongs to a brand: pass thread or brand_id.")
    event = Event.objects.create(
        brand_id=brand_id, thread=thread, actor=actor, verb=Verb(verb), detail=detail
    )
    if thread is not None:
        rollups.record(event, thread, _loaded_brand(thread, actor))
    touched = None if thread is None else [thread.id]
    transaction.on_commit(lambda: version.bump(brand_id, touched))
    return event


def record_many(
    verb: Verb, brand: Brand, rows: Iterable[tuple[Thread | None, dict[str, object]]]
) -> list[Event]:
    """Many Events of one verb and brand, by no one (the poller's page): one INSERT, and
    one for their rollups."""
    events = Event.objects.bulk_create(
        Event(brand=brand, thread=thread, verb=Verb(verb), detail=detail) for thread, detail in rows
    )
    if events:
        if verb in rollups.COUNTERS:
            rollups.record_many(events, brand)
        touched = [e.thread_id for e in events]
        touched = None if None in touched else touched
        transaction.on_commit(lambda: version.bump(brand.id, touched))
    return events


def _loaded_brand(thread: Thread, actor: Agent | None) -> Brand | None:
    """The thread's brand when a row in hand has it loaded already (a query saved)."""
    if Thread.brand.is_cached(thread):
        return thread.brand
    if actor is not None and actor.brand_id == thread.brand_id:
        return actor.brand if type(actor).brand.is_cached(actor) else None
    return None


# "Claim next" writes its Event and rollups in the claim's own statement (inbox.actions,
# BENCHMARKS.md problem 5). The statement's Event part lives here, beside record().
CLAIM_NEXT_CTES = """
event AS (
    INSERT INTO inbox_event (brand_id, actor_id, verb, thread_id, at, detail)
    SELECT brand_id, %(agent)s, 'claimed', id, %(now)s, '{"next": true}' FROM claimed
), rollup AS (
    INSERT INTO inbox_rollup (brand_id, grain, bucket, agent_id, claimed,
        first_response_hist, resolution_hist)
    SELECT %(brand)s, k.grain, k.bucket, k.agent, 1, '{}', '{}'
    FROM (VALUES (%(g1)s, %(b1)s, NULL::bigint), (%(g2)s, %(b2)s, NULL), (%(g3)s, %(b3)s, %(a3)s))
        AS k(grain, bucket, agent)
    WHERE EXISTS (SELECT FROM claimed)
)"""


def claim_next_params(agent: Agent, now) -> dict[str, object]:
    """CLAIM_NEXT_CTES' parameters: the rollup keys as rollups.record writes them."""
    params: dict[str, object] = {}
    keys = rollups.keys(agent.brand, now, agent.id)  # minute, quarter, the agent's day
    for n, (grain, bucket, agent_id) in enumerate(keys, start=1):
        params |= {f"g{n}": grain, f"b{n}": bucket, f"a{n}": agent_id}
    return params
