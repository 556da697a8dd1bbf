"""Claim next in one round trip (issue 15): the agent's row lock and the claim go out
together in psycopg's pipeline mode, one implicit transaction committed at the one Sync,
and come back after it; libpq's own trace of the wire shows it. An error in it rolls the
whole claim back. Auto-assignment (actions.do_assign_next) goes the same way."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.utils import timezone
from psycopg import pq

from agents.models import Agent
from inbox import actions
from inbox.models import Event, Thread, ThreadStatus
from tests.helpers import make_thread

pytestmark = pytest.mark.django_db(transaction=True)  # the claim's own BEGIN and COMMIT


def traced(path: Path, call):
    """Run `call` with libpq tracing this connection's wire to `path`; its messages."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with path.open("w") as out:
        pgconn.trace(out.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            result = call()
        finally:
            pgconn.untrace()
    lines = [line.split("\t") for line in path.read_text().splitlines()]
    return result, [(fields[0], fields[2].split(" ")[0]) for fields in lines if len(fields) > 2]


def test_it_claims_next_in_one_round_trip_and_commits(brand, customer, agent, tmp_path):
    agent.max_held = 20
    threads = [make_thread(brand, customer, n) for n in range(8)]
    for n in range(8):  # past psycopg's prepare_threshold: prepared statements go the same way
        claimed, wire = traced(tmp_path / f"{n}.trace", lambda: actions.do_claim_next(agent=agent))
        sent = [kind for way, kind in wire if way == "F"]
        assert sent.count("Sync") == 1, sent
        # No BEGIN or COMMIT: the statements before the Sync are one implicit transaction.
        assert not re.search(r"\b(BEGIN|COMMIT)\b", (tmp_path / f"{n}.trace").read_text())
        assert [kind for way, kind in wire if way == "B"].count("ReadyForQuery") == 1
        assert claimed in threads
        assert connection.connection.info.transaction_status == pq.TransactionStatus.IDLE
    assert settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"] < 8
    with other_session() as other:
        held = other.execute(
            "SELECT count(*) FROM inbox_thread WHERE claimed_by_id = %s AND status = 'claimed'",
            [agent.id],
        ).fetchone()[0]
    assert held == 8  # committed: another connection sees every claim
    assert Event.objects.filter(verb="claimed").count() == 8


@contextmanager
def other_session() -> Iterator[psycopg.Connection]:
    """A second session on the test database (autocommit), as another web process."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    other.ensure_connection()
    try:
        yield other.connection
    finally:
        other.close()


@pytest.fixture
def held_elsewhere() -> Callable[..., AbstractContextManager[None]]:
    """`with held_elsewhere(sql, params):` another session holds what `sql` locks (in a
    transaction of its own, on a thread) for the block, and this session's lock_timeout
    is 50 ms meanwhile: a statement that waits on it fails at once."""

    @contextmanager
    def hold(sql: str, params: list[object]) -> Iterator[None]:
        locked, release = threading.Event(), threading.Event()

        def holder() -> None:
            try:
                with other_session() as other, other.transaction():
                    other.execute(sql, params)
                    locked.set()
                    release.wait(30)
            finally:
                locked.set()

        thread = threading.Thread(target=holder)
        thread.start()
        try:
            assert locked.wait(30)
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '50ms'")
            yield
        finally:
            release.set()
            thread.join()
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")

    return hold


def test_an_error_inside_rolls_the_claim_back_and_the_connection_goes_on(
    brand, customer, agent, second_agent, held_elsewhere
):
    thread = make_thread(brand, customer, 1)
    # Another session holds Alice's row: her claim's lock waits, past lock_timeout.
    lock = "SELECT 1 FROM agents_agent WHERE id = %s FOR NO KEY UPDATE"
    with held_elsewhere(lock, [agent.id]):
        with pytest.raises(OperationalError, match="lock timeout"):
            actions.do_claim_next(agent=agent)
        assert connection.connection.info.transaction_status == pq.TransactionStatus.IDLE
    thread.refresh_from_db()
    assert (thread.status, thread.claimed_by_id) == (ThreadStatus.OPEN, None)
    assert not Event.objects.exists()  # the claim's Event went with it
    assert actions.do_claim_next(agent=second_agent) == thread  # the same connection goes on
    assert Thread.objects.get(id=thread.id).claimed_by_id == second_agent.id


# --- auto-assignment (inbox.routing.assign): the same pipeline, the agent's lock skipped ----


def available(agent) -> None:
    Agent.objects.filter(id=agent.id).update(available_since=timezone.now())


def test_it_assigns_next_in_one_round_trip_and_commits(brand, customer, agent, tmp_path):
    agent.max_held = 20
    agent.save(update_fields=["max_held"])
    available(agent)
    threads = [make_thread(brand, customer, n) for n in range(8)]
    agent = Agent.objects.select_related("brand").get(id=agent.id)
    for n in range(8):  # past psycopg's prepare_threshold, as above
        assigned, wire = traced(tmp_path / f"{n}.trace", lambda: actions.do_assign_next(agent))
        sent = [kind for way, kind in wire if way == "F"]
        assert sent.count("Sync") == 1, sent
        assert [kind for way, kind in wire if way == "B"].count("ReadyForQuery") == 1
        assert assigned in threads
        assert assigned.assigned_at is not None
        assert connection.connection.info.transaction_status == pq.TransactionStatus.IDLE
    with other_session() as other:
        held = other.execute(
            "SELECT count(*) FROM inbox_thread WHERE claimed_by_id = %s AND status = 'claimed'"
            " AND assigned_at IS NOT NULL",
            [agent.id],
        ).fetchone()[0]
        turn = other.execute(
            "SELECT last_assigned_at FROM agents_agent WHERE id = %s", [agent.id]
        ).fetchone()[0]
    assert held == 8  # committed: another connection sees every assignment
    assert turn == agent.last_assigned_at == assigned.assigned_at  # to the back of the line
    assert Event.objects.filter(verb="assigned", actor=agent).count() == 8


def test_an_assignment_stops_at_the_cap_read_under_the_lock(brand, customer, agent):
    available(agent)
    for n in range(3):
        make_thread(brand, customer, n)
    agent = Agent.objects.select_related("brand").get(id=agent.id)
    Agent.objects.filter(id=agent.id).update(max_held=2)  # after the run loaded the agent
    assert actions.do_assign_next(agent) is not None
    assert actions.do_assign_next(agent) is not None
    assert actions.do_assign_next(agent) is None  # the row's cap, not the stale object's
    assert Thread.objects.filter(claimed_by=agent).count() == 2


def test_an_agent_no_longer_available_or_locked_by_another_is_skipped(brand, customer, agent):
    thread = make_thread(brand, customer, 1)
    agent = Agent.objects.select_related("brand").get(id=agent.id)
    assert actions.do_assign_next(agent) is None  # never set Available
    available(agent)
    with other_session() as other, other.transaction():
        other.execute("SELECT 1 FROM agents_agent WHERE id = %s FOR NO KEY UPDATE", [agent.id])
        assert actions.do_assign_next(agent) is None  # SKIP LOCKED: not waited for
    thread.refresh_from_db()
    assert (thread.status, thread.claimed_by_id) == (ThreadStatus.OPEN, None)
    assert Agent.objects.get(id=agent.id).last_assigned_at is None
    assert actions.do_assign_next(agent.id) == thread  # by id: loaded here


def test_an_error_inside_an_assignment_rolls_it_all_back(
    brand, customer, agent, second_agent, held_elsewhere
):
    """The claim statement fails after the agent's lock and the thread's UPDATE (its
    Event's INSERT waits on a table lock past lock_timeout): nothing of it stays."""
    thread = make_thread(brand, customer, 1)
    available(agent)
    agent = Agent.objects.select_related("brand").get(id=agent.id)
    with held_elsewhere("LOCK TABLE inbox_event IN EXCLUSIVE MODE", []):
        with pytest.raises(OperationalError, match="lock timeout"):
            actions.do_assign_next(agent)
        assert connection.connection.info.transaction_status == pq.TransactionStatus.IDLE
    thread.refresh_from_db()
    assert (thread.status, thread.claimed_by_id, thread.assigned_at) == ("open", None, None)
    assert Agent.objects.get(id=agent.id).last_assigned_at is None
    assert not Event.objects.exists()
    with connection.cursor() as cursor:  # the transaction-local setting went with it
        cursor.execute("SELECT current_setting('twelp.assignee', true)")
        assert cursor.fetchone()[0] in (None, "")
    assert actions.do_assign_next(agent) == thread  # the same connection goes on
    assert Thread.objects.get(id=thread.id).claimed_by_id == agent.id
