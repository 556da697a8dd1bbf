"""Every change of a thread's status lives here (the outbox rows' are inbox.outbox's).

Each `do_*` function is one transaction that writes one `Event` (inbox.events, which
also bumps the queue version after commit). Races are decided by the database: a named claim is a
compare-and-set, "claim next" is `FOR UPDATE SKIP LOCKED`, everything else locks the
row first (`access.lock_thread`) and then checks. A lost race raises `ActionError` with a
message an agent can act on; nothing they typed is thrown away by the caller.
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.models import Q
from django.db.models.base import ModelState
from django.db.models.functions import Lower
from django.db.models.signals import post_init, pre_init
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.pq import TransactionStatus

from inbox import events, notifications, queries, schedule
from inbox.errors import ActionError, AlreadyClaimed
from inbox.live import version
from inbox.models import (
    Brand,
    Channel,
    Message,
    Note,
    Reply,
    Source,
    Thread,
    ThreadStatus,
    Verb,
)
from inbox.quality import survey
from inbox.routing import capacity, teams
from inbox.rules import pii, priority, reasons, sla
from inbox.rules.text import check_reply_text, move_note, private_text, render_body
from twelp.prepared import Prepared

if TYPE_CHECKING:
    import uuid

    from django.db.backends.utils import CursorWrapper

    from agents.models import Agent

__all__ = ["ActionError", "AlreadyClaimed"]  # re-exported: views catch them from here


def _lease(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=settings.CLAIM_LEASE_SECONDS)


# Built by the ORM once per process (twelp.prepared): every send, close, claim of a thread
# page and release runs it. The brand comes along (not locked: `of` self): the send's X
# rule, its Event's rollups and its estimate read it.
_LOCK = Prepared(
    lambda thread_id, brand_id: (
        Thread.objects.select_for_update(no_key=True, of=("self",))
        .select_related("claimed_by", "brand")
        .filter(id=thread_id, brand_id=brand_id)
    ),
    arity=2,
)


def lock_thread(thread_id: int, agent: Agent) -> Thread:
    """The thread, row-locked, if it is in the agent's brand; else Thread.DoesNotExist.
    Inside the caller's transaction."""
    thread = _LOCK.first(thread_id, agent.brand_id)
    if thread is None:
        raise Thread.DoesNotExist("No such thread in this brand.")
    return thread


# --- claims -----------------------------------------------------------------------------


@transaction.atomic(durable=True)
def do_claim(thread_id: int, *, agent: Agent) -> Thread:
    """Compare-and-set: only an open thread can be claimed; the loser learns who won.
    An agent at their cap (inbox.routing.capacity) is refused, except for a thread that
    is already theirs (a double click)."""
    try:
        capacity.check_room(agent)
    except capacity.AtCapacity:
        if Thread.objects.filter(id=thread_id, claimed_by=agent, status="claimed").exists():
            return Thread.objects.select_related("claimed_by", "offered_to").get(id=thread_id)
        raise
    claimed = Thread.objects.filter(
        Q(offered_to__isnull=True) | Q(offered_to=agent) | Q(offer_expires_at__lt=timezone.now()),
        id=thread_id,
        brand_id=agent.brand_id,
        status=ThreadStatus.OPEN,
    ).update(
        status=ThreadStatus.CLAIMED,
        claimed_by=agent,
        claim_expires_at=_lease(),
        offered_to=None,
        offer_expires_at=None,
        assigned_at=None,
        updated_at=timezone.now(),
    )
    thread = Thread.objects.select_related("claimed_by", "offered_to").get(
        id=thread_id, brand_id=agent.brand_id
    )
    if not claimed:
        if thread.claimed_by_id == agent.id:
            return thread  # a double click: already ours
        if thread.status == ThreadStatus.CLAIMED:
            raise AlreadyClaimed(thread.claimed_by)
        if thread.status == ThreadStatus.OPEN:  # offered to whoever answered it before
            raise AlreadyClaimed(thread.offered_to)
        raise ActionError(
            _("This thread is %(lower)s; nothing to claim.")
            % {"lower": thread.get_status_display().lower()}
        )
    events.record(Verb.CLAIMED, thread=thread, actor=agent)
    if agent.available_once:  # in line for one (inbox.routing.assign 4.): served now
        _leave_line(agent)
    return thread


# "Claim next" as one statement (BENCHMARKS.md, problem 5): the thread, its Event and
# its rollup rows in one round trip. The offer order (inbox.routing.offer): a thread
# offered to this agent (thread_offers), else the oldest past its first-response target,
# else the smallest offer_at; each skips rows other agents are claiming right now.
# COALESCE runs a subquery only when the ones before it found nothing. Its Event and
# rollup rows are inbox.events' (CLAIM_NEXT_CTES).
#
# The agent's teams (inbox.routing.teams): an agent in a team reads each of their teams'
# own range of the order (indexes thread_team_open_waiting and thread_team_offer_order,
# keyed by COALESCE(team_id, 0): 0 is "no team", the default team's too), the head of
# each locked SKIP LOCKED, and takes the first of those heads. An agent in several teams
# holds the heads of the others until the claim commits (one round trip): a colleague
# skips them for that long. One range per team, not one range of the brand filtered by
# team: with 20 teams, a team whose oldest threads were taken walked past every other
# team's older ones on each claim (2,341 rows for one claim at 1M threads, 6.6 ms;
# BENCHMARKS.md, issue 15). An agent in no team reads the brand's whole range
# (thread_open_waiting, thread_offer_order), as before teams.
#
# The cap (inbox.routing.capacity): what the agent holds is counted up to the cap and no
# further (LIMIT): "under the cap" needs no more, and an agent who holds many threads
# (a supervisor's reassignments past it, a lifted cap) costs a read of cap rows at most.
_CLAIM_NEXT = """
WITH claimed AS (
    UPDATE inbox_thread SET status = 'claimed', claimed_by_id = %(agent)s,
        claim_expires_at = %(lease)s, offered_to_id = NULL, offer_expires_at = NULL,
        assigned_at = %(assigned)s, updated_at = %(now)s
    WHERE status = 'open'{gate}
    AND (SELECT count(*) FROM (SELECT FROM inbox_thread
         WHERE claimed_by_id = %(agent)s AND status = 'claimed' LIMIT {cap}) AS held) < {cap}
    AND id = COALESCE(
        (SELECT id FROM inbox_thread
         WHERE brand_id = %(brand)s AND status = 'open' AND offered_to_id = %(agent)s
             AND x_hidden = ''
         ORDER BY priority DESC, waiting_since, id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED),
        (SELECT head.id FROM {my_teams} AS my(team) CROSS JOIN LATERAL (
             SELECT id, waiting_since FROM inbox_thread
             WHERE brand_id = %(brand)s AND status = 'open' AND COALESCE(team_id, 0) = my.team
                 AND waiting_since < %(breach)s AND {free} AND {langs} AND x_hidden = ''
             ORDER BY waiting_since, id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED) AS head
         ORDER BY head.waiting_since, head.id LIMIT 1),
        (SELECT id FROM inbox_thread
         WHERE {in_no_team} AND brand_id = %(brand)s AND status = 'open'
             AND waiting_since < %(breach)s AND {free} AND {langs} AND x_hidden = ''
         ORDER BY waiting_since, id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED),
        (SELECT head.id FROM {my_teams} AS my(team) CROSS JOIN LATERAL (
             SELECT id, offer_at FROM inbox_thread
             WHERE brand_id = %(brand)s AND status = 'open' AND COALESCE(team_id, 0) = my.team
                 AND {free} AND {langs}
                 AND x_hidden = ''  -- X says its customer's content must not be shown
             ORDER BY offer_at, id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED) AS head
         ORDER BY head.offer_at, head.id LIMIT 1),
        (SELECT id FROM inbox_thread
         WHERE {in_no_team} AND brand_id = %(brand)s AND status = 'open' AND {free}
             AND {langs} AND x_hidden = ''
         ORDER BY offer_at, id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED))
    RETURNING {columns}
),{events}
SELECT * FROM claimed
"""
_THREAD_FIELDS = [f.attname for f in Thread._meta.concrete_fields]
# The agent's teams as keys of the team indexes: their teams' ids, and 0 (no team) when
# they are in the default team. An agent in no team: none (then _IN_NO_TEAM holds).
_MY_TEAMS = """(SELECT team_id FROM inbox_team_members WHERE agent_id = %(agent)s
             UNION ALL SELECT 0 WHERE EXISTS (SELECT FROM inbox_team_members m
                 JOIN inbox_team t ON t.id = m.team_id
                 WHERE m.agent_id = %(agent)s AND t.is_default))"""
_IN_NO_TEAM = "NOT EXISTS (SELECT FROM inbox_team_members WHERE agent_id = %(agent)s)"
# Languages as skills: a thread in a language some active employee lists as theirs
# (Agent.languages) goes to those speakers first, to anyone once it has waited the
# brand's language_wait; a language nobody lists (or none) is anyone's at once. The
# brand's listed languages are one InitPlan over its employees per statement.
_OFFER_FREE = """(offered_to_id IS NULL OR offered_to_id = %(agent)s
             OR offer_expires_at < %(now)s)"""
_IN_MY_LANGUAGES = """(lang = '' OR lang = ANY(%(langs)s::varchar[])
             OR waiting_since < %(lang_cutoff)s
             OR lang <> ALL(ARRAY(SELECT unnest(languages) FROM agents_agent
                                  WHERE brand_id = %(brand)s AND state = 'active')))"""
_CLAIM_NEXT_SQL = _CLAIM_NEXT.format(
    columns=", ".join(f.column for f in Thread._meta.concrete_fields),
    events=events.CLAIM_NEXT_CTES,
    free=_OFFER_FREE,
    my_teams=_MY_TEAMS,
    in_no_team=_IN_NO_TEAM,
    langs=_IN_MY_LANGUAGES,
    gate="",
    cap="%(cap)s",
)
# Auto-assignment (inbox.routing.assign) is the same statement for an Available agent,
# its Event `assigned` instead of `claimed` (events.ASSIGN_CTES), sent after
# _ASSIGN_LOCK_SQL in the same pipeline (_claim_pipelined):
# - it runs only if that lock took the agent's row (the transaction-local setting
#   twelp.assignee is their id; '' when the row was locked by someone else, or they are
#   no longer Available and active): a one-time filter, nothing is read otherwise;
# - the cap is read from the rows locked (the agent's own, else the brand's), not from
#   the Agent loaded at the start of the run;
# - the agent goes to the back of the turn order (last_assigned_at) only if a thread
#   was assigned; one who was in line for one (Agent.available_once) leaves the line.
_TURN_CTE = """, turn AS (
    UPDATE agents_agent SET last_assigned_at = %(now)s,
        available_since = CASE WHEN available_once THEN NULL ELSE available_since END,
        available_once = false
    WHERE id = %(agent)s AND EXISTS (SELECT FROM claimed)
)"""
_ASSIGN_NEXT_SQL = _CLAIM_NEXT.format(
    columns=", ".join(f.column for f in Thread._meta.concrete_fields),
    events=events.ASSIGN_CTES + _TURN_CTE,
    free=_OFFER_FREE,
    my_teams=_MY_TEAMS,
    in_no_team=_IN_NO_TEAM,
    langs=_IN_MY_LANGUAGES,
    gate="\n    AND current_setting('twelp.assignee', true) = %(agent)s::text",
    cap="""(SELECT COALESCE(a.max_held, b.max_held) FROM agents_agent a
             JOIN inbox_brand b ON b.id = a.brand_id WHERE a.id = %(agent)s)""",
)
# The assigner's lock on the agent's row: SKIP LOCKED (an agent whose row another
# assigner or their own claim holds is skipped, not waited for), and only while they are
# Available and active. Its outcome reaches the claim statement, sent in the same
# pipeline before this one's answer is read, through a transaction-local setting.
_ASSIGN_LOCK_SQL = """
SELECT set_config('twelp.assignee', COALESCE((
    SELECT id::text FROM agents_agent
    WHERE id = %s AND state = 'active' AND available_since IS NOT NULL
    FOR NO KEY UPDATE SKIP LOCKED), ''), true)
"""


class _Positional:
    """A statement written with %(name)s placeholders, turned once into PostgreSQL's own
    $1, $2, ... for psycopg's RawCursor: psycopg parses a query for its placeholders on
    every execute unless it is at most 4,096 bytes (then it caches the parse), and the
    claim statement is ~5,000: that parse was ~0.1 ms of Python a claim. `values(params)`
    is the parameters in the statement's order."""

    _PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")

    def __init__(self, sql: str) -> None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return "%"  # %% is a literal % in psycopg's syntax, in PostgreSQL's itself
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        self.sql = self._PLACEHOLDER.sub(number, sql)
        self.names = tuple(names)

    def values(self, params: dict[str, object]) -> list[object]:
        return [params[name] for name in self.names]


def _server_binding_cursor(raw: bool = False) -> CursorWrapper:
    """A cursor that binds on the server, so psycopg prepares a statement run often (after
    DATABASES' prepare_threshold runs; the ORM's client-side cursors never do): planning
    the claim costs more than running it. Wrapped as Django's own, so it is logged.
    `raw`: psycopg's RawCursor, for a statement with $n placeholders (_Positional)."""
    connection.ensure_connection()
    kind = _RawServerBindingCursor if raw else ServerBindingCursor
    return connection._prepare_cursor(kind(connection.connection))


class _RawServerBindingCursor(psycopg.RawCursor, ServerBindingCursor):
    """Django's server-binding cursor (callproc) that takes $n placeholders as they are."""


_CLAIM_NEXT_RAW = _Positional(_CLAIM_NEXT_SQL)
_ASSIGN_NEXT_RAW = _Positional(_ASSIGN_NEXT_SQL)
_LOCK_RAW = capacity.LOCK_SQL.replace("%s", "$1")  # the agent's id, their one parameter
_ASSIGN_LOCK_RAW = _ASSIGN_LOCK_SQL.replace("%s", "$1")


def do_claim_next(*, agent: Agent, now: datetime | None = None) -> Thread | None:
    """The next open thread in the offer order (inbox.routing.offer) nobody holds, or
    None when the queue is empty. `now`: the time of the claim (a benchmark's virtual
    clock; default the real one).

    First a thread offered to this agent (a customer they answered wrote again), then the
    queue of their teams in order, skipping rows other agents are claiming right now
    (SKIP LOCKED) and threads still offered to someone else. Writes the "claimed" Event
    and its rollups. An agent at their cap is refused (capacity.AtCapacity).

    One round trip to PostgreSQL (`_claim_pipelined`). Like every top-level action it is
    durable: called inside a transaction it raises, except in a test case's, where the
    same statements run in a savepoint.
    """
    thread = _claim_in_one_round_trip(agent, now, assign=False)
    if thread is None:
        # One more round trip, only when nothing was claimed: full, or nothing waiting?
        capacity.refuse_if_full(agent)
    elif agent.available_once:  # in line for one (inbox.routing.assign 4.): served now
        _leave_line(agent)
    return thread


def _leave_line(agent: Agent) -> None:
    """A claim of their own gave `agent` a thread: they are no longer in line for one. No
    Event: the claim's own says what happened."""
    from agents.models import Agent as AgentModel

    AgentModel.objects.filter(id=agent.id, available_once=True).update(
        available_since=None, available_once=False
    )
    agent.available_since, agent.available_once = None, False


def _claim_in_one_round_trip(agent: Agent, now: datetime | None, *, assign: bool) -> Thread | None:
    """_claim_pipelined in a transaction of its own (durable: see do_claim_next)."""
    if connection.in_atomic_block:
        with transaction.atomic(durable=True):
            return _claim_pipelined(agent, now, own_transaction=False, assign=assign)
    return _claim_pipelined(agent, now, own_transaction=True, assign=assign)


def _claim_pipelined(
    agent: Agent, now: datetime | None, *, own_transaction: bool, assign: bool
) -> Thread | None:
    """Claim next (or, `assign`, auto-assignment's take) in psycopg's pipeline mode: the
    agent's row lock and the claim statement, sent together and answered after one Sync.

    1. The agent's row lock is its own statement before the claim (inbox.routing.capacity):
       the claim's snapshot is taken after the lock is granted, so it counts a claim of
       theirs that just committed, and the cap holds. Claim next waits for the lock;
       an assignment skips a locked agent (_ASSIGN_LOCK_SQL), and its claim statement
       then does nothing.
    2. The claim takes its thread with FOR NO KEY UPDATE SKIP LOCKED (one statement, with
       its Event and rollups: _CLAIM_NEXT): a thread is claimed once.
    3. `own_transaction`: the connection is in autocommit, and PostgreSQL runs the
       statements before a Sync in one implicit transaction, committed at the Sync (no
       BEGIN or COMMIT sent: two statements fewer to send, parse and run). READ COMMITTED
       still takes a snapshot per statement (1.), the lock is held to the commit, and
       the assignment's transaction-local setting lasts to it. An error skips what
       follows it up to the Sync and rolls the implicit transaction back; it is raised
       as Django's. If the connection is left inside a transaction anyway, it is rolled
       back here.
    `own_transaction` False: the caller's transaction (a test case's) holds the
    statements.
    """
    params = _claim_params(agent, now, assigned=assign)
    lock_sql = _ASSIGN_LOCK_RAW if assign else _LOCK_RAW
    statement = _ASSIGN_NEXT_RAW if assign else _CLAIM_NEXT_RAW
    db = connections[DEFAULT_DB_ALIAS]  # once: each `connection.x` is a lookup by alias
    db.ensure_connection()
    pg = db.connection
    if own_transaction and not pg.autocommit:  # Django's autocommit, outside atomic()
        raise RuntimeError("claim next in its own transaction needs an autocommit connection")
    cursor = db._prepare_cursor(_RawServerBindingCursor(pg))  # _server_binding_cursor(raw)
    try:
        with db.wrap_database_errors:
            try:
                with pg.pipeline():
                    cursor.execute(lock_sql, [agent.id])
                    cursor.execute(statement.sql, statement.values(params))
            except BaseException:
                if own_transaction and pg.info.transaction_status != TransactionStatus.IDLE:
                    with contextlib.suppress(psycopg.Error):  # broken: Django discards it
                        pg.execute("ROLLBACK")
                raise
            row = cursor.fetchone()
    finally:
        cursor.close()
    return _claimed(row, agent)


def _claim_params(agent: Agent, now: datetime | None, *, assigned: bool) -> dict[str, object]:
    """The claim-next statement's parameters for `agent` (_CLAIM_NEXT, events' CTEs)."""
    brand_sla = sla.for_brand(agent.brand) if now is None else sla.BrandSla(agent.brand, now)
    now = now or timezone.now()
    params = {"agent": agent.id, "brand": agent.brand_id, "now": now, "lease": _lease(now)}
    params |= events.claim_next_params(agent, now) | {"cap": capacity.cap(agent)}
    params["breach"] = brand_sla.cutoffs.breach  # None: no target is ever breached
    params |= {"langs": list(agent.languages), "lang_cutoff": now - agent.brand.language_wait}
    params["assigned"] = now if assigned else None
    return params


def _claimed(row: tuple | None, agent: Agent) -> Thread | None:
    """The thread of a claim statement's row, its holder set; the queue version bumped on
    commit (at once when the claim committed in its own transaction), its reply read
    before the response leaves (version.publish)."""
    if row is None:
        return None
    thread = _thread_of(row)
    thread.claimed_by = agent
    # Outside an atomic block (the claim's own transaction, committed) on_commit runs it now.
    transaction.on_commit(lambda: version.publish(agent.brand_id, [thread.id]))
    return thread


def _thread_of(row: tuple) -> Thread:
    """Thread.from_db(the default alias, _THREAD_FIELDS, row) without Model.__init__'s
    setattr of each field (a descriptor's __set__ for each of its foreign keys): the row's
    values go into the instance's __dict__, where __init__ would put them. While a signal
    listens to Thread's construction, from_db itself."""
    if pre_init.has_listeners(Thread) or post_init.has_listeners(Thread):
        return Thread.from_db(DEFAULT_DB_ALIAS, _THREAD_FIELDS, row)
    thread = Thread.__new__(Thread)
    thread.__dict__.update(zip(_THREAD_FIELDS, row, strict=True))
    state = thread._state = ModelState()
    state.adding, state.db = False, DEFAULT_DB_ALIAS
    return thread


# --- work that comes to you (inbox.routing.assign decides who and when) ------------------


def do_assign_next(agent: Agent | int, *, now: datetime | None = None) -> Thread | None:
    """Assign the next thread of the Available agent `agent` to them, in the offer order
    of "claim next", with an Event `assigned`; None when they are busy right now (their
    row locked by their own claim or another assigner: SKIP LOCKED), no longer Available
    or active, at their cap, or nothing of their teams is waiting.

    `agent`: an Agent with its brand loaded (an assignment run loads its agents once:
    inbox.routing.assign), or an id (then loaded here, one more round trip). Whether
    they are Available and active, and their cap, are read under the lock, not from it.

    One round trip, as claim next (_claim_pipelined): their row is locked first (as
    every claim of theirs does, inbox.routing.capacity), so the cap holds against their
    own claims and any number of concurrent assigners; the thread is taken with SKIP
    LOCKED, so it is assigned once; the agent's last_assigned_at moves with it.
    """
    if not hasattr(agent, "brand_id"):
        from agents.models import Agent as AgentModel

        agent = AgentModel.objects.select_related("brand").filter(id=agent).first()
        if agent is None:
            return None
    thread = _claim_in_one_round_trip(agent, now, assign=True)
    if thread is not None:
        agent.last_assigned_at = thread.assigned_at  # the statement set both to its now
    return thread


@transaction.atomic
def hand_back_unstarted(agent: Agent, *, reason: str) -> int:
    """The threads assigned to `agent` that they have not opened go back to the queue, an
    Event `assignment_returned` each (they went away or offline). Inside the caller's
    transaction (inbox.routing.assign.do_set_available)."""
    threads = list(
        Thread.objects.select_for_update(no_key=True)
        .filter(claimed_by=agent, status=ThreadStatus.CLAIMED, assigned_at__isnull=False)
        .order_by("id")
    )
    for thread in threads:
        _unclaim(thread)
        events.record(
            Verb.ASSIGNMENT_RETURNED, thread=thread, actor=None, holder=agent.id, reason=reason
        )
    if threads:
        schedule.assign(agent.brand_id)
    return len(threads)


def do_start_assignment(thread_id: int, *, agent: Agent) -> bool:
    """The holder opened a thread assigned to them: it is theirs now, and stays theirs
    when they go away. No Event (the assignment's own says who); True if it changed."""
    return bool(
        Thread.objects.filter(
            id=thread_id, claimed_by=agent, status=ThreadStatus.CLAIMED, assigned_at__isnull=False
        ).update(assigned_at=None)
    )


def do_renew(thread_id: int, *, agent: Agent) -> datetime:
    """Extend the agent's lease; no Event (a renewal every minute per agent is noise).

    Raises ActionError when the claim is no longer theirs (expired and taken, released
    by a supervisor, closed).
    """
    expires = _lease()
    renewed = Thread.objects.filter(
        id=thread_id, brand_id=agent.brand_id, status=ThreadStatus.CLAIMED, claimed_by=agent
    ).update(claim_expires_at=expires)
    if not renewed:
        raise ActionError(_("You no longer hold this thread. Your text is still here."))
    return expires


@transaction.atomic(durable=True)
def do_release(thread_id: int, *, agent: Agent) -> Thread:
    """Back to the queue. The holder may release; so may a supervisor, anyone's."""
    thread = lock_thread(thread_id, agent)
    if thread.status != ThreadStatus.CLAIMED:
        raise ActionError(_("This thread is not claimed; nothing to release."))
    if thread.claimed_by_id != agent.id and not agent.is_supervisor:
        raise AlreadyClaimed(thread.claimed_by)
    holder = thread.claimed_by
    _unclaim(thread)
    events.record(Verb.RELEASED, thread=thread, actor=agent, holder=holder.id if holder else None)
    schedule.assign(thread.brand_id)  # a thread back in the queue, and room for its holder
    return thread


def _unclaim(thread: Thread) -> None:
    """Back to the queue; a follow-up's claim back to answered (nobody is waiting)."""
    thread.status = ThreadStatus.ANSWERED if thread.follow_up else ThreadStatus.OPEN
    thread.follow_up = False
    thread.claimed_by = None
    thread.claim_expires_at = None
    thread.assigned_at = None
    thread.save(
        update_fields=[
            *("status", "follow_up", "claimed_by", "claim_expires_at", "assigned_at"),
            "updated_at",
        ]
    )


# --- after the answer ----------------------------------------------------------------------


@transaction.atomic(durable=True)
def do_claim_follow_up(thread_id: int, *, agent: Agent) -> Thread:
    """The agent who answered an answered thread claims it again to add a follow-up (a
    correction, "it's fixed now"), then answers as usual (do_send_reply: the same checks,
    in reply to the customer's latest message). Compare-and-set, as do_claim; refused past
    the agent's cap (inbox.routing.capacity), as every claim of one's own is."""
    try:
        capacity.check_room(agent)
    except capacity.AtCapacity:
        if Thread.objects.filter(id=thread_id, claimed_by=agent, status="claimed").exists():
            return Thread.objects.select_related("claimed_by").get(id=thread_id)
        raise
    claimed = Thread.objects.filter(
        id=thread_id,
        brand_id=agent.brand_id,
        status=ThreadStatus.ANSWERED,
        last_answered_by=agent,
    ).update(
        status=ThreadStatus.CLAIMED,
        claimed_by=agent,
        claim_expires_at=_lease(),
        follow_up=True,
        assigned_at=None,
        updated_at=timezone.now(),
    )
    thread = Thread.objects.select_related("claimed_by").get(id=thread_id, brand_id=agent.brand_id)
    if not claimed:
        if thread.status == ThreadStatus.CLAIMED and thread.claimed_by_id == agent.id:
            return thread  # a double click
        if thread.status == ThreadStatus.CLAIMED:
            raise AlreadyClaimed(thread.claimed_by)
        if thread.status != ThreadStatus.ANSWERED:
            raise ActionError(
                _("This thread is %(lower)s: a follow-up is for an answered thread.")
                % {"lower": thread.get_status_display().lower()}
            )
        raise ActionError(_("Only the employee who answered last may add a follow-up."))
    events.record(Verb.FOLLOW_UP_CLAIMED, thread=thread, actor=agent)
    return thread


def can_reopen(agent: Agent, thread: Thread) -> bool:
    return thread.status == ThreadStatus.CLOSED and (
        agent.is_supervisor or thread.last_answered_by_id == agent.id
    )


@transaction.atomic(durable=True)
def do_reopen(thread_id: int, *, agent: Agent) -> Thread:
    """A supervisor, or the employee who answered last, reopens a closed thread: back in
    the queue, offered first to its last answerer. Refused while the customer has a newer
    live thread in the same conversation (one live thread each)."""
    thread = lock_thread(thread_id, agent)
    if thread.status != ThreadStatus.CLOSED:
        raise ActionError(
            _("This thread is %(lower)s, not closed.")
            % {"lower": thread.get_status_display().lower()}
        )
    if not can_reopen(agent, thread):
        raise ActionError(_("Only a supervisor or the employee who answered last may reopen it."))
    thread.status = ThreadStatus.OPEN
    thread.closed_at = None
    thread.waiting_since = timezone.now()
    # Back to its last answerer only while they are online and have room, else to the
    # team at once (inbox.routing.capacity.takes_back).
    answerer = thread.last_answered_by_id
    thread.offered_to_id = answerer if capacity.takes_back(thread.brand_id, [answerer]) else None
    thread.offer_expires_at = (
        timezone.now() + timedelta(seconds=settings.REOPEN_OFFER_SECONDS)
        if thread.offered_to_id
        else None
    )
    try:
        with transaction.atomic():
            thread.save(update_fields=[*_REOPEN_FIELDS, "updated_at"])
    except IntegrityError:
        raise ActionError(
            _("The customer has a newer open thread in this conversation: answer them there.")
        ) from None
    events.record(Verb.REOPENED_BY_STAFF, thread=thread, actor=agent)
    schedule.assign(thread.brand_id)
    return thread


@transaction.atomic
def do_release_all(agent: Agent, *, actor: Agent | None, reason: str) -> int:
    """Every claim `agent` holds goes back to the queue (a leaver, a forced logout).

    Not durable: deactivation runs it inside its own transaction, so a leaver's claims
    return in the same commit that locks them out.
    """
    threads = list(
        Thread.objects.select_for_update(no_key=True).filter(
            claimed_by=agent, status=ThreadStatus.CLAIMED
        )
    )
    for thread in threads:
        _unclaim(thread)
        events.record(Verb.RELEASED, thread=thread, actor=actor, holder=agent.id, reason=reason)
    if threads:
        schedule.assign(agent.brand_id)
    return len(threads)


def do_expire_leases(now: datetime | None = None) -> int:
    """The sweep: claims past their lease return to the queue, each in its own transaction."""
    now = now or timezone.now()
    expired = Thread.objects.filter(status=ThreadStatus.CLAIMED, claim_expires_at__lt=now)
    released = 0
    for thread_id in expired.values_list("id", flat=True)[:1000]:
        with transaction.atomic():
            thread = (
                Thread.objects.select_for_update(no_key=True, skip_locked=True)
                .filter(id=thread_id, status=ThreadStatus.CLAIMED, claim_expires_at__lt=now)
                .first()
            )
            if thread is None:  # renewed, released or being changed right now
                continue
            holder = thread.claimed_by_id
            _unclaim(thread)
            events.record(Verb.LEASE_EXPIRED, thread=thread, actor=None, holder=holder)
            schedule.assign(thread.brand_id)
            released += 1
    return released


@transaction.atomic(durable=True)
def do_reassign(thread_id: int, *, to: Agent, actor: Agent) -> Thread:
    """A supervisor hands a live thread to a named, active agent, even one at their cap
    (inbox.routing.capacity): the Event records how many they hold now, and the cap."""
    if not actor.is_supervisor:
        raise ActionError(_("Only supervisors can reassign threads."))
    if not to.is_active or to.brand_id != actor.brand_id:
        raise ActionError(_("%(name)s is not an active employee here.") % {"name": to.name})
    thread = lock_thread(thread_id, actor)
    if thread.status == ThreadStatus.CLOSED:
        raise ActionError(_("This thread is closed; reopen it by answering the customer."))
    before = thread.claimed_by_id
    capacity.lock_agent(to.id)
    thread.status = ThreadStatus.CLAIMED
    thread.claimed_by = to
    thread.claim_expires_at = _lease()
    thread.assigned_at = None
    thread.save(
        update_fields=["status", "claimed_by", "claim_expires_at", "assigned_at", "updated_at"]
    )
    held, cap = capacity.held(to.id), capacity.cap(to)
    events.record(
        Verb.REASSIGNED, thread=thread, actor=actor, to=to.id, before=before, held=held, cap=cap
    )
    notifications.reassigned(thread, to=to, actor=actor)
    thread.held_by_assignee = held  # for the supervisor's message: past the cap or not
    return thread


# --- noise: bulk dismiss, muted tweets (inbox.noise) ------------------------------------


@transaction.atomic(durable=True)
def do_dismiss(thread_ids: list[int], *, agent: Agent) -> tuple[int, list[str]]:
    """Supervisors and admins close chosen open threads as noise, one Event `dismissed`
    each, all in one transaction. What changed since the form was drawn is skipped, with
    why: (number dismissed, reasons skipped)."""
    if not agent.is_supervisor:
        raise ActionError(_("Only supervisors and admins can dismiss threads."))
    return dismiss_locked(thread_ids, agent=agent, verb="dismissed")


def dismiss_locked(thread_ids: list[int], *, agent: Agent, verb: str) -> tuple[int, list[str]]:
    """Inside the caller's transaction: lock the threads (in id order, as the poller does,
    so the two cannot deadlock) and close the open ones and the agent's own claims."""
    threads = list(
        Thread.objects.select_for_update(no_key=True, of=("self",))
        .select_related("claimed_by", "customer")
        .filter(id__in=thread_ids, brand_id=agent.brand_id)
        .order_by("id")
    )
    skipped = [f"thread {i} no longer exists" for i in set(thread_ids) - {t.id for t in threads}]
    dismissed, now = 0, timezone.now()
    for thread in threads:
        mine = thread.status == ThreadStatus.CLAIMED and thread.claimed_by_id == agent.id
        if thread.status != ThreadStatus.OPEN and not mine:
            holder = f" by {thread.claimed_by.name}" if thread.claimed_by else ""
            status = thread.get_status_display().lower()
            skipped.append(f"@{thread.customer.handle}'s thread is {status}{holder}")
            continue
        thread.status = ThreadStatus.CLOSED
        thread.claimed_by = None
        thread.claim_expires_at = None
        thread.offered_to = None
        thread.offer_expires_at = None
        thread.assigned_at = None
        thread.closed_at = now
        thread.save(
            update_fields=[
                "status",
                "claimed_by",
                "claim_expires_at",
                "assigned_at",
                "offered_to",
                "offer_expires_at",
                "closed_at",
                "updated_at",
            ]
        )
        events.record(verb, thread=thread, actor=agent)
        dismissed += 1
    return dismissed, skipped


def do_file_noise(brand: Brand, threads: list[Thread], why: dict[int, dict]) -> list[Thread]:
    """New conversations that start with a muted or blocked tweet (inbox.noise): created
    closed, never queued, each with an Event (`muted`/`blocked`) saying why ({conversation
    id: detail with its verb}). The poller, inside its transaction."""
    if not threads:
        return []
    now = timezone.now()
    for thread in threads:
        thread.status = ThreadStatus.CLOSED
        thread.closed_at = now
    Thread.objects.bulk_create(threads)
    do_note_noise(brand, [(t, why[t.conversation_id]) for t in threads])
    return threads


def do_note_noise(brand: Brand, notes: list[tuple[Thread, dict]]) -> None:
    """A muted tweet joined `thread` without changing it: say so in its timeline."""
    by_verb: dict[str, list[tuple[Thread, dict]]] = {}
    for thread, detail in notes:
        rest = {k: v for k, v in detail.items() if k != "verb"}
        by_verb.setdefault(detail["verb"], []).append((thread, rest))
    for verb, rows in by_verb.items():
        events.record_many(Verb(verb), brand, rows)


# --- answering and closing -------------------------------------------------------------


class NewerMessage(ActionError):
    """The thread has messages newer than the ones the agent's reply was written against
    (the customer wrote again, a colleague's answer posted): Send is held until they have
    read them. `messages`: the newer ones, oldest first; `latest`: the newest one's id."""

    def __init__(self, thread: Thread, messages: list[Message]) -> None:
        self.messages, self.latest = messages, messages[-1].id
        last_in = [m for m in messages if m.direction == Message.Direction.IN]
        if last_in:
            who = queries.author_handle(thread, last_in[-1])
            said = _("%(who)s wrote again: read it before sending.") % {"who": f"@{who}"}
        else:
            said = _("%(who)s posted meanwhile: read it before sending.") % {
                "who": f"@{thread.brand.handle}"
            }
        again = _("Send again to post your reply as it is, or edit it first.")
        super().__init__(f"{said} {again}")


# A resubmitted form's reply, by its client_token (twelp.prepared: on every send).
_BY_TOKEN = Prepared(lambda token: Reply.objects.filter(client_token=token), arity=0, uuids=1)


@transaction.atomic(durable=True)
def do_send_reply(
    thread_id: int,
    *,
    agent: Agent,
    text: str,
    client_token: uuid.UUID | None = None,
    confirmed_personal_data: str = "",
    written_against: int | None = None,
) -> Reply:
    """Queue the agent's answer in the outbox; post_reply sends it after commit.

    The agent must hold the thread. The same client_token twice (a double click, a
    resubmitted form) returns the first reply and sends nothing more. With
    `written_against` (the newest message id the agent had on screen), a newer message
    raises NewerMessage: nothing is sent until they confirm against it. A public reply that
    looks like it carries personal data raises pii.PersonalData unless the agent confirmed
    exactly those findings (`confirmed_personal_data` is their pii.digest).
    """
    thread = lock_thread(thread_id, agent)
    # After the lock, so a double click racing itself finds the first click's reply.
    if client_token and (existing := _BY_TOKEN.first(client_token)):
        return existing
    if thread.status != ThreadStatus.CLAIMED or thread.claimed_by_id != agent.id:
        if thread.claimed_by_id:
            raise AlreadyClaimed(thread.claimed_by)
        raise ActionError(_("Claim this thread before answering it; your text is kept."))
    if written_against is not None and (newer := queries.messages_after(thread, written_against)):
        raise NewerMessage(thread, newer)
    body, credit = render_body(text, agent)
    check_reply_text(body, channel=thread.channel)
    latest = _latest_in(thread)  # what it answers; on a public thread, what X judges
    if why := queries.public_reply_refusal(thread, latest=latest):  # X would answer 403
        raise ActionError(why)
    if thread.channel == Channel.TWEET:
        pii.check(text, confirmed=confirmed_personal_data)
    # What it answers is on the thread's channel, and so is the reply: decided here, from
    # the thread, never from the form (a trigger refuses any other combination).
    reply = _queue_reply(
        thread,
        agent=agent,
        text=text,
        credit=credit,
        body=body,
        in_reply_to=latest,
        client_token=client_token,
    )
    _mark_answered(thread, agent)
    events.record(Verb.REPLIED, thread=thread, actor=agent, reply=reply.id)
    schedule.post_reply(reply.id)
    return reply


@transaction.atomic
def do_relay_reply(
    thread: Thread, in_reply_to: Message, *, agent: Agent, text: str, relayed_x_id: int
) -> Reply:
    """An employee's own tagged answer on X, posted again from the brand (inbox.ingest.relay).

    Runs inside the poller's page transaction; the caller checked the agent is active and
    the body fits. The thread counts as answered by them (a closed one stays closed); a
    claim someone else held is let go, since the customer has their answer.
    """
    thread = Thread.objects.select_for_update(no_key=True).get(id=thread.id)
    body, credit = render_body(text, agent)
    reply = _queue_reply(
        thread, agent=agent, text=text, credit=credit, body=body, in_reply_to=in_reply_to
    )
    holder = thread.claimed_by_id
    _mark_answered(thread, agent, keep_closed=True)
    events.record(
        Verb.REPLIED,
        thread=thread,
        actor=agent,
        reply=reply.id,
        relayed=relayed_x_id,
        holder=holder,
    )
    schedule.post_reply(reply.id)
    return reply


@transaction.atomic(durable=True)
def do_move_to_dm(
    thread_id: int,
    *,
    agent: Agent,
    text: str,
    client_token: uuid.UUID | None = None,
    written_against: int | None = None,
) -> Reply:
    """Answer a public thread privately; returns the DM's reply (inbox.ingest.dms).

    The agent must hold the public thread. Their text goes to the customer by DM, on the
    customer's DM thread (made if need be; refused if a colleague holds it), and a short
    public note ("@kim we've sent you a DM ^JD") answers the public thread. The note
    waits for the DM (Reply.waits_for): if X refuses the DM, nothing public is posted and
    both come back to the agent with X's reason, the text kept.
    """
    thread = lock_thread(thread_id, agent)
    if client_token and (existing := Reply.objects.filter(client_token=client_token).first()):
        return existing
    if thread.channel != Channel.TWEET:
        raise ActionError(_("This thread is already private: answer it with Send."))
    _check_holder(thread, agent)
    if written_against is not None and (newer := queries.messages_after(thread, written_against)):
        raise NewerMessage(thread, newer)  # as do_send_reply: read it before sending
    private = private_text(text)
    body, credit = render_body(private, agent)
    check_reply_text(body, channel=Channel.DM)
    note_words = move_note(thread.customer.handle)
    note, _credit = render_body(note_words, agent)
    check_reply_text(note)
    # A post that never tagged the brand may not be answered in public (X's summoned-reply
    # rule): the DM goes alone, with no public note.
    public = queries.public_reply_refusal(thread) is None
    dm_thread = dm_thread_for(thread)
    if dm_thread.status == ThreadStatus.CLAIMED and dm_thread.claimed_by_id != agent.id:
        raise AlreadyClaimed(dm_thread.claimed_by)
    dm_reply = _queue_reply(
        dm_thread, agent=agent, text=private, credit=credit, body=body, client_token=client_token
    )
    note_reply = (
        _queue_reply(
            thread, agent=agent, text=note_words, credit=credit, body=note, waits_for=dm_reply
        )
        if public
        else None
    )
    for answered in (dm_thread, thread):
        _mark_answered(answered, agent)
    events.record(
        Verb.REPLIED, thread=dm_thread, actor=agent, reply=dm_reply.id, moved_from=thread.id
    )
    events.record(
        Verb.MOVED_TO_DM,
        thread=thread,
        actor=agent,
        reply=note_reply.id if note_reply else None,
        dm_reply=dm_reply.id,
    )
    schedule.post_reply(dm_reply.id)  # the note follows once X has the DM
    return dm_reply


def dm_thread_for(public: Thread) -> Thread:
    """The customer's live DM thread, row-locked; a new one (answered by the caller) if
    they have none. Runs inside the caller's transaction."""
    found = _live_dm_thread(public)
    if found is not None:
        return found
    source = Source.objects.filter(brand_id=public.brand_id, kind=Source.Kind.DMS).first()
    try:
        with transaction.atomic():  # the poller may make it this instant: its row wins
            return Thread.objects.create(
                brand_id=public.brand_id,
                customer_id=public.customer_id,
                source=source,
                channel=Channel.DM,
                conversation_id=public.customer.x_user_id,
                preview=public.preview,
                sentiment=public.sentiment,
                intent=public.intent,
                priority=public.priority,
            )
    except IntegrityError:
        return _live_dm_thread(public)  # type: ignore[return-value]


def _live_dm_thread(public: Thread) -> Thread | None:
    return (
        Thread.objects.select_for_update(no_key=True, of=("self",))
        .select_related("claimed_by")
        .filter(
            brand_id=public.brand_id,
            channel=Channel.DM,
            conversation_id=public.customer.x_user_id,
        )
        .exclude(status=ThreadStatus.CLOSED)
        .first()
    )


def unasked_dm_thread(public: Thread) -> Thread:
    """Where a DM the customer did not ask for goes (issue 20: the satisfaction survey):
    their newest DM thread with the brand, else a new one made closed, so nothing waits on
    it in the queue; their answer by DM reopens it, as ingest does a closed thread."""
    found = (
        Thread.objects.filter(
            brand_id=public.brand_id, channel=Channel.DM, conversation_id=public.customer.x_user_id
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if found is not None:
        return found
    now = timezone.now()
    source = Source.objects.filter(brand_id=public.brand_id, kind=Source.Kind.DMS).first()
    return Thread.objects.create(
        brand_id=public.brand_id,
        customer_id=public.customer_id,
        source=source,
        channel=Channel.DM,
        conversation_id=public.customer.x_user_id,
        preview=public.preview,
        status=ThreadStatus.CLOSED,
        closed_at=now,
    )


def _check_holder(thread: Thread, agent: Agent) -> None:
    if thread.status != ThreadStatus.CLAIMED or thread.claimed_by_id != agent.id:
        if thread.claimed_by_id:
            raise AlreadyClaimed(thread.claimed_by)
        raise ActionError(_("Claim this thread before answering it; your text is kept."))


def _queue_reply(
    thread: Thread,
    *,
    agent: Agent,
    text: str,
    credit: str,
    body: str,
    in_reply_to: Message | None = None,
    client_token: uuid.UUID | None = None,
    waits_for: Reply | None = None,
) -> Reply:
    """A new outbox row answering `thread` on its own channel: by default, the customer's
    latest message there. The outbox (inbox.outbox) posts it after commit."""
    return Reply.objects.create(
        thread=thread,
        in_reply_to=in_reply_to or _latest_in(thread),
        agent=agent,
        channel=thread.channel,
        text=text,
        credit=credit,
        body=body,
        waits_for=waits_for,
        **({"client_token": client_token} if client_token else {}),
    )


def _latest_on(channel: str) -> Prepared[Message]:
    return Prepared(
        lambda thread_id: Message.objects.filter(
            thread_id=thread_id, channel=channel, direction=Message.Direction.IN
        ).order_by("-sent_at", "-x_id")
    )


_LATEST_IN = {channel: _latest_on(channel) for channel in Channel}  # twelp.prepared


def _latest_in(thread: Thread) -> Message | None:
    """The customer's latest message on the thread's channel: what an answer replies to."""
    return _LATEST_IN[thread.channel].first(thread.id)


def _mark_answered(thread: Thread, agent: Agent | None, *, keep_closed: bool = False) -> None:
    """The thread has its answer (queued in the outbox): out of the queue and its claim
    let go; a closed one stays closed with `keep_closed` (a relayed answer)."""
    if not (keep_closed and thread.status == ThreadStatus.CLOSED):
        thread.status = ThreadStatus.ANSWERED
        thread.claimed_by = None
        thread.claim_expires_at = None
        thread.assigned_at = None
    if agent is not None:
        thread.last_answered_by = agent
    thread.follow_up = False
    thread.save(
        update_fields=[
            *("status", "claimed_by", "claim_expires_at", "last_answered_by", "follow_up"),
            *("assigned_at", "updated_at"),
        ]
    )
    schedule.assign(thread.brand_id)  # its holder has room again


def closers(thread: Thread) -> str:
    """Who may close the thread, for do_close (`can_close`) and for the thread page, which
    shows Close by it on every open page of the thread (inbox.views.thread): an answered
    one, "everyone"; a claimed one, "holder supervisors"; an open one, "supervisors"; a
    closed one is not closed again ("")."""
    return {
        ThreadStatus.ANSWERED: "everyone",
        ThreadStatus.CLAIMED: "holder supervisors",
        ThreadStatus.OPEN: "supervisors",
    }.get(thread.status, "")


def can_close(agent: Agent, thread: Thread) -> bool:
    """Whether `agent` is one of the thread's `closers`."""
    who = closers(thread).split()
    return (
        "everyone" in who
        or ("holder" in who and thread.claimed_by_id == agent.id)
        or ("supervisors" in who and agent.is_supervisor)
    )


@transaction.atomic(durable=True)
def do_close(thread_id: int, *, agent: Agent) -> Thread:
    """Closes the thread if `can_close`; closing a closed thread changes nothing."""
    thread = lock_thread(thread_id, agent)
    if thread.status == ThreadStatus.CLOSED:
        return thread
    if not can_close(agent, thread):
        if thread.status == ThreadStatus.CLAIMED:
            raise AlreadyClaimed(thread.claimed_by)
        raise ActionError(_("Claim this thread before closing it."))
    thread.status = ThreadStatus.CLOSED
    thread.claimed_by = None
    thread.claim_expires_at = None
    thread.assigned_at = None
    thread.closed_at = timezone.now()
    thread.save(
        update_fields=[
            *("status", "claimed_by", "claim_expires_at", "assigned_at", "closed_at"),
            "updated_at",
        ]
    )
    events.record(Verb.CLOSED, thread=thread, actor=agent)
    schedule.assign(thread.brand_id)  # its holder has room again
    survey.on_close(thread, agent=agent)  # satisfaction DM, where the brand asks for one
    return thread


def do_customer_wrote(
    thread: Thread, message: Message, *, signals: priority.Signals | None = None
) -> Thread:
    """A new message from the customer in one thread, inside the caller's transaction.
    The poller takes the batch (do_customers_wrote), tweets and DMs alike.

    An answered or closed thread reopens, offered first to the agent who answered; an
    open or claimed one just moves its preview (it was already waiting). `signals` sum up
    the customer's new messages (default: `message` alone); a reopened thread takes their
    sentiment and priority afresh, a waiting one keeps its worst mood and its highest
    priority (inbox.rules.priority).
    """
    thread = Thread.objects.select_for_update(no_key=True).get(id=thread.id)
    fields = _customer_wrote(thread, message, signals or _signals_of(thread, message))
    if "status" in fields:  # reopened
        events.record(Verb.REOPENED, thread=thread, actor=None, message=message.x_id)
        for routed, detail in teams.route_reopened(thread.brand, [(thread, message.text)]):
            events.record(Verb.ROUTED, thread=routed, actor=None, **detail)
        schedule.assign(thread.brand_id)
    else:
        transaction.on_commit(lambda: version.bump(thread.brand_id, [thread.id]))
    thread.save(update_fields=fields)
    return thread


def do_customers_wrote(
    brand: Brand, wrote: dict[int, tuple[Message, priority.Signals]]
) -> list[Thread]:
    """do_customer_wrote for a page of threads at once ({thread id: (latest message,
    signals)}), the same change to each, in a few statements instead of ~5 per thread
    (BENCHMARKS.md, problem 2): lock them all (in id order, so two polls cannot
    deadlock), one UPDATE per kind of change, the reopens' Events and rollups in one
    INSERT each, one bump of the queue version. The poller, inside its transaction.
    """
    threads = list(
        Thread.objects.select_for_update(no_key=True).filter(id__in=wrote).order_by("id")
    )
    reopened, waiting, now = [], [], timezone.now()
    answerers = {t.last_answered_by_id for t in threads if t.status in _DONE}
    back = capacity.takes_back(brand.id, answerers)
    for thread in threads:
        message, signals = wrote[thread.id]
        fields = _customer_wrote(thread, message, signals, back)
        thread.updated_at = now  # bulk_update does not run auto_now
        (reopened if "status" in fields else waiting).append(thread)
    if waiting:
        Thread.objects.bulk_update(waiting, _WROTE_FIELDS)
    if reopened:
        routed = teams.route_reopened(brand, [(t, wrote[t.id][0].text) for t in reopened])
        Thread.objects.bulk_update(reopened, _WROTE_FIELDS + _REOPEN_FIELDS)
        events.record_many(
            Verb.REOPENED, brand, [(t, {"message": wrote[t.id][0].x_id}) for t in reopened]
        )
        teams.record_routed(brand, routed)
        schedule.assign(brand.id)
    if threads:
        transaction.on_commit(lambda: version.bump(brand.id, [t.id for t in threads]))
    return threads


_WROTE_FIELDS = ["preview", "sentiment", "intent", "priority", "follow_up", "lang", "updated_at"]
_REOPEN_FIELDS = ["status", "waiting_since", "closed_at", "offered_to", "offer_expires_at", "team"]
_DONE = (ThreadStatus.ANSWERED, ThreadStatus.CLOSED)


def _customer_wrote(
    thread: Thread, message: Message, signals: priority.Signals, back: set[int] | None = None
) -> list[str]:
    """Apply the customer's new words to `thread` (locked); the fields that changed. A
    reopened thread is offered to its last answerer only if they are in `back` (online,
    with room: capacity.takes_back; default: asked here), else it is the team's at once."""
    thread.preview = message.text[:280]
    thread.follow_up = False  # the customer is waiting again: a release queues it
    thread.lang = message.lang or thread.lang  # the latest language X recognised
    reopening = thread.status in (ThreadStatus.ANSWERED, ThreadStatus.CLOSED)
    if reopening:
        thread.sentiment, thread.priority = signals.sentiment, priority.score(signals)
        thread.intent = signals.intent
    else:
        before = priority.Signals(sentiment=thread.sentiment, intent=thread.intent)
        merged = priority.combine([signals, before])
        thread.sentiment, thread.intent = merged.sentiment, merged.intent
        thread.priority = max(thread.priority, priority.score(merged))
    if not reopening:
        return list(_WROTE_FIELDS)
    thread.status = ThreadStatus.OPEN
    thread.waiting_since = message.sent_at
    thread.closed_at = None
    answerer = thread.last_answered_by_id
    if back is None:
        back = capacity.takes_back(thread.brand_id, [answerer])
    thread.offered_to_id = answerer if answerer in back else None
    thread.offer_expires_at = None
    if thread.offered_to_id:
        thread.offer_expires_at = timezone.now() + timedelta(seconds=settings.REOPEN_OFFER_SECONDS)
    return _WROTE_FIELDS + _REOPEN_FIELDS


@transaction.atomic(durable=True)
def do_add_note(thread_id: int, *, agent: Agent, text: str) -> Note:
    """An internal note for colleagues, on any thread of the agent's brand; never posted."""
    text = text.strip()
    if not text:
        raise ActionError(_("The note is empty."))
    thread = Thread.objects.get(id=thread_id, brand_id=agent.brand_id)
    note = Note.objects.create(thread=thread, agent=agent, text=text)
    mentioned = mentioned_colleagues(agent, text)
    note.mentions.set(mentioned)
    tagged = {"mentions": [m.id for m in mentioned]} if mentioned else {}
    events.record(Verb.NOTED, thread=thread, actor=agent, note=note.id, **tagged)
    if mentioned:
        notifications.mentioned(agent, mentioned, thread)
    return note


_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")


def mentioned_colleagues(agent: Agent, text: str) -> list[Agent]:
    """Active colleagues a note @mentions by X handle or credit code (`@janedoe_cares`,
    `@JD2`), any case; other @names (a customer's handle) stay plain text."""
    from agents.models import Agent, AgentState

    names = {name.lower() for name in _MENTION.findall(text)}
    if not names:
        return []
    rows = Agent.objects.annotate(handle=Lower("x_handle"), code=Lower("credit_code")).filter(
        Q(handle__in=names) | Q(code__in=names),
        brand_id=agent.brand_id,
        state=AgentState.ACTIVE,
    )
    return list(rows.exclude(id=agent.id).order_by("name", "id"))


def _signals_of(thread: Thread, message: Message) -> priority.Signals:
    urgent = priority.keyword_matcher(thread.brand.urgent_keywords or [])
    return priority.Signals(
        followers=thread.customer.followers_count,
        verified=thread.customer.verified,
        sentiment=message.sentiment,
        urgent=bool(urgent and urgent.search(message.text)),
        intent=message.intent,
    )


# --- the thread's side of the outbox (inbox.outbox writes the outbox rows) --------------


def reply_posted(reply: Reply) -> None:
    """X has `reply` (marked posted by the outbox): the thread's first response, the
    brand's message in the thread, the Event. In the outbox's transaction."""
    thread = Thread.objects.select_for_update(no_key=True).get(id=reply.thread_id)
    auto = reply.agent_id is None  # the brand's auto-reply (inbox.ingest.autoreply): not an answer
    if thread.first_response_at is None and not auto:
        thread.first_response_at = reply.posted_at
        thread.save(update_fields=["first_response_at", "updated_at"])
    brand = thread.brand
    try:
        with transaction.atomic():
            Message.objects.create(
                brand=brand,
                thread=thread,
                x_id=reply.posted_x_id,
                channel=reply.channel,
                direction=Message.Direction.OUT,
                author_x_id=brand.x_user_id,
                text=reply.body,
                in_reply_to_x_id=reply.in_reply_to.x_id if reply.in_reply_to else None,
                conversation_id=thread.conversation_id,
                sent_at=reply.posted_at,
            )
    except IntegrityError:
        pass  # the poller already stored it; the reply row is what counts
    verb = Verb.AUTO_REPLY_POSTED if auto else Verb.REPLY_POSTED
    events.record(verb, thread=thread, actor=reply.agent, reply=reply.id, x_id=reply.posted_x_id)


def reply_refused(reply: Reply, reason: reasons.Reason) -> None:
    """X refused `reply` for good (marked failed by the outbox): an answered thread goes
    back to its author, or to the queue. In the outbox's transaction."""
    thread = Thread.objects.select_for_update(no_key=True).get(id=reply.thread_id)
    author = reply.agent
    if thread.status == ThreadStatus.ANSWERED:
        if author is not None and author.is_active:
            thread.status = ThreadStatus.CLAIMED
            thread.claimed_by = author
            thread.claim_expires_at = _lease()
        else:
            thread.status = ThreadStatus.OPEN
        thread.save(update_fields=["status", "claimed_by", "claim_expires_at", "updated_at"])
    events.record(
        Verb.REPLY_FAILED, thread=thread, actor=None, reply=reply.id, **events.why(reason)
    )
    notifications.reply_refused(reply, thread, reason)


def reply_retried(reply: Reply, *, actor: Agent, reason: reasons.Reason | str) -> Thread:
    """A supervisor sends a failed reply again (the outbox requeues the row): the thread,
    handed back to the reply's author when it failed, is answered again. If another agent
    holds it now, they must release it first, or two answers could cross."""
    thread = (
        Thread.objects.select_for_update(no_key=True, of=("self",))
        .select_related("claimed_by")
        .get(id=reply.thread_id)
    )
    if thread.status == ThreadStatus.CLAIMED and thread.claimed_by_id != reply.agent_id:
        holder = thread.claimed_by
        raise ActionError(
            _(
                "%(Someone)s holds this thread now; release it first so that two answers do not "
                "cross."
            )
            % {"Someone": holder.name if holder else _("Someone")}
        )
    # An auto-reply (no author) leaves the customer waiting for a human.
    if reply.agent_id and thread.status in (ThreadStatus.OPEN, ThreadStatus.CLAIMED):
        _mark_answered(thread, None)
    events.record(
        Verb.REPLY_RETRIED, thread=thread, actor=actor, reply=reply.id, **events.why(reason)
    )
    return thread
