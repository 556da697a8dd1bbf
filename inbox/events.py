"""The audit trail's one writer: every Event row is created here.

1. An Event is written in the caller's transaction: it commits with the change it records,
   or neither does (Zulip's `do_*` functions write their RealmAuditLog row the same way).
2. The dashboard's rollups (inbox.rollups) for its verb are inserted in that transaction.
3. The brand's live version is bumped after commit, so every open page shows the change;
   the bump logs which thread changed (inbox.live.version). An Event of no thread may
   have changed any thread page (brand settings, credentials, an erasure), unless its
   verb is one of THREADLESS: then no thread page is rendered again for it (700 agents
   going Available and away must not re-render every open thread page).
4. A row is never changed again but twice, both here and both let through by the
   database's trigger (migration 0020_data_duties): `seal` chains it into its brand's
   hash chain once (inbox.rules.chain), `erase_details` strips a customer's personal
   fields from its detail when the customer is erased.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import connection, transaction

from inbox import rollups
from inbox.live import version
from inbox.models import Brand, Event, Thread, Verb
from inbox.rules import chain, reasons

if TYPE_CHECKING:
    from agents.models import Agent

# Verbs of no thread that change nothing a thread page shows (docstring, 3): the queues,
# the dashboard and the audit show them; thread pages are left as they are.
THREADLESS = frozenset(
    {
        Verb.AVAILABILITY_CHANGED,
        Verb.ROUTING_RULE_CHANGED,
        Verb.SOURCE_CHANGED,
        Verb.CUSTOMER_EXPORTED,
        Verb.API_TOKEN_CREATED,
        Verb.API_TOKEN_REVOKED,
        Verb.WEBHOOK_ADDED,
        Verb.WEBHOOK_REMOVED,
        Verb.WEBHOOK_PAUSED,
        Verb.WEBHOOK_RESUMED,
        Verb.TWO_FACTOR_ENROLLED,
        Verb.TWO_FACTOR_CODES,
        Verb.TWO_FACTOR_RESET,
    }
)


def why(reason: reasons.Reason | str) -> dict[str, object]:
    """An Event's detail for a reason (inbox.rules.reasons): `why`, the code the audit
    trail renders in its reader's language, and `reason`, the English sentence (what the
    API and older readers read). A reason from before codes is its English sentence."""
    if isinstance(reason, dict):
        return {"reason": reasons.english(reason)[:200], "why": reason}
    return {"reason": reason[:200]}


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
    touched = [thread.id] if thread is not None else [] if verb in THREADLESS else None
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
    SELECT brand_id, %(grain)s, %(bucket)s, %(agent)s, 1, '{}', '{}' FROM claimed
)"""

# Auto-assignment (inbox.routing.assign) runs the same statement: a claim by its rollups,
# `assigned` in the audit trail.
ASSIGN_CTES = CLAIM_NEXT_CTES.replace(
    """'claimed', id, %(now)s, '{"next": true}'""", """'assigned', id, %(now)s, '{"auto": true}'"""
)


def claim_next_params(agent: Agent, now) -> dict[str, object]:
    """CLAIM_NEXT_CTES' parameters: the rollup row's key as rollups.record writes it."""
    grain, bucket, _agent = rollups.key(now, agent.id)
    return {"grain": grain, "bucket": bucket}


# --- the hash chain (inbox.rules.chain) -----------------------------------------------------

# One sealer at a time (a transaction-level advisory lock): two would fork a chain.
_SEAL_LOCK = 7_219_001


def seal(limit: int = 5000) -> int:
    """Seal up to `limit` unsealed rows, in id order, into their brands' chains; how many.

    Off the hot path: it locks only the Event rows it seals (no thread, reply or brand
    row), and claim, send and close only ever INSERT Events, so none of them waits on it.
    A row that commits after a higher id was sealed joins its chain on the next run (the
    chain's order is seal_seq, which follows id within a run).
    """
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SEAL_LOCK])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(
            "SELECT id, brand_id, thread_id, actor_id, verb, at, detail FROM inbox_event"
            " WHERE seal_seq IS NULL ORDER BY id LIMIT %s",
            [limit],
        )
        rows = cursor.fetchall()
        if not rows:
            return 0
        heads = _chain_heads(cursor, sorted({row[1] for row in rows}))
        ids, seqs, seals, digests = [], [], [], []
        for event_id, brand_id, thread_id, actor_id, verb, at, detail in rows:
            seq, previous = heads.get(brand_id, (0, chain.GENESIS))
            detail_digest = chain.digest(detail)
            fields = {"event_id": event_id, "brand_id": brand_id, "thread_id": thread_id}
            fields |= {"actor_id": actor_id, "verb": verb, "at": at}
            sealed = chain.link(previous, seq=seq + 1, detail_digest=detail_digest, **fields)
            heads[brand_id] = (seq + 1, sealed)
            ids.append(event_id)
            seqs.append(seq + 1)
            seals.append(sealed)
            digests.append(detail_digest)
        cursor.execute(
            "UPDATE inbox_event e SET seal_seq = v.seq, seal = v.seal, detail_digest = v.dg"
            " FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[])"
            " AS v(id, seq, seal, dg) WHERE e.id = v.id",
            [ids, seqs, seals, digests],
        )
    return len(rows)


def _chain_heads(cursor, brand_ids: list[int]) -> dict[int, tuple[int, str]]:
    """{brand id: (last seal_seq, its seal)} for brands whose chain has begun."""
    cursor.execute(
        "SELECT b, h.seal_seq, h.seal FROM unnest(%s::bigint[]) AS b, LATERAL ("
        " SELECT seal_seq, seal FROM inbox_event WHERE brand_id = b AND seal_seq IS NOT NULL"
        " ORDER BY seal_seq DESC LIMIT 1) AS h",
        [brand_ids],
    )
    return {brand_id: (seq, sealed) for brand_id, seq, sealed in cursor.fetchall()}


# --- a customer's erasure (inbox.data.erasure) --------------------------------------------

# Keys of an Event's detail that say something about a customer (a tag, their tweet).
PERSONAL_KEYS = ["tag", "tags", "message", "handle", "name", "text", "preview", "why"]


def erase_details(thread_ids: list[int]) -> int:
    """Strip PERSONAL_KEYS from the details of these threads' Events, marking each row
    changed as erased (inbox.rules.chain.ERASED_MARK); how many rows. Only inside the
    erasure's transaction: the setting that lets the trigger pass ends with it."""
    if not connection.in_atomic_block:
        raise RuntimeError("erase_details runs inside the erasure's transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('twelp.erasure', 'on', true)")
        cursor.execute(
            "UPDATE inbox_event SET detail = (detail - %s::text[])"
            " || jsonb_build_object(%s::text, %s::text)"
            " WHERE thread_id = ANY(%s) AND detail ?| %s::text[]",
            [PERSONAL_KEYS, chain.ERASED_MARK, chain.ERASED_VALUE, thread_ids, PERSONAL_KEYS],
        )
        changed = cursor.rowcount
        cursor.execute("SELECT set_config('twelp.erasure', 'off', true)")
    return changed
