"""twelp.prepared: the two fetches run on nearly every request build exactly what the ORM
builds (every field, related object, annotation and converted value), with SQL the ORM
wrote once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils import timezone

from agents.backends import EmployeeBackend, _employee
from inbox.models import Team, Thread
from inbox.queries import access_thread
from tests.helpers import make_agent, make_thread, make_thread_with_message
from twelp.prepared import Prepared


def _values(obj: object) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_the_employee_is_read_as_the_orm_reads_them(brand, agent):
    brand.business_hours = {"mon": [["09:00", "17:00"]]}  # a JSON field, converted
    brand.save()
    team = Team.objects.create(brand=brand, name="Billing")
    team.members.add(agent)
    expected = _employee(agent.user_id).get()
    user = EmployeeBackend().get_user(agent.user_id)
    assert _values(user) == _values(expected)
    assert _values(user.agent) == _values(expected.agent)
    assert _values(user.agent.brand) == _values(expected.agent.brand)
    assert user.agent.brand.business_hours == {"mon": [["09:00", "17:00"]]}
    assert user.team_ids == [team.id] and user.in_default_team is False
    assert user.agent.team_scope == ([team.id], False)


def test_a_user_without_an_employee_row_is_read_too(outsider):
    user = EmployeeBackend().get_user(outsider.id)
    assert user.username == outsider.username
    assert getattr(user, "agent", None) is None


@pytest.mark.parametrize("user_id", ["", "x", None, "12abc"])
def test_a_session_id_that_is_no_id_is_nobody(db, user_id):
    assert EmployeeBackend().get_user(user_id) is None


def test_an_unknown_or_inactive_user_is_nobody(agent):
    assert EmployeeBackend().get_user(agent.user_id + 1000) is None
    get_user_model().objects.filter(id=agent.user_id).update(is_active=False)
    assert EmployeeBackend().get_user(agent.user_id) is None


def test_a_thread_is_read_as_the_orm_reads_it(brand, agent, customer):
    team = Team.objects.create(brand=brand, name="Stores")
    thread = make_thread(brand, customer, 7, team=team, claimed_by=agent, status="claimed")
    bare = make_thread(brand, customer, 8)
    for made in (thread, bare):
        expected = Thread.objects.select_related("customer", "claimed_by", "brand", "team").get(
            id=made.id
        )
        found = access_thread(agent, made.id)
        assert _values(found) == _values(expected)
        for related in ("customer", "claimed_by", "brand", "team"):
            want, got = getattr(expected, related), getattr(found, related)
            assert (got is None) == (want is None)
            if want is not None:
                assert _values(got) == _values(want)
    assert access_thread(agent, bare.id).team is None


def test_another_brands_thread_is_a_404(brand, customer, db):
    from inbox.models import Brand

    other = Brand.objects.create(name="Other", handle="other", x_user_id=4242)
    stranger = make_agent(other, "olga")
    thread = make_thread(brand, customer, 9)
    with pytest.raises(Http404):
        access_thread(stranger, thread.id)
    with pytest.raises(Http404):
        access_thread(stranger, 10**12)


def test_a_build_that_drops_an_argument_is_refused(db):
    prepared = Prepared(lambda thread_id: Thread.objects.filter(status="open"))
    with pytest.raises(ValueError, match="appears 0 times"):
        prepared.first(1)
    with pytest.raises(TypeError):
        Prepared(lambda a: Thread.objects.filter(id=a)).first(1, 2)


def test_many_rows_are_read_as_the_orm_reads_them_in_its_order(brand, agent, customer):
    """`all()`: the conversation, notes and mutes of every thread page, row for row."""
    from inbox import queries
    from inbox.models import Message, Mute, Note, Reply

    thread = make_thread_with_message(brand, customer, "first", conversation_id=70)
    other = make_thread_with_message(brand, customer, "elsewhere", conversation_id=71)
    for n in (3, 1, 2):  # not in id order: the ordering is the ORM's, kept
        Message.objects.create(
            brand=brand,
            thread=thread,
            x_id=700 + n,
            direction="in",
            author_x_id=customer.x_user_id,
            text=f"more {n}",
            conversation_id=70,
            sent_at=timezone.now() - timedelta(minutes=n),
        )
    Reply.objects.create(thread=thread, agent=agent, text="on it", body="on it ^KI")
    Reply.objects.create(thread=thread, agent=None, text="auto", body="auto")
    Note.objects.create(thread=thread, agent=agent, text="called the store")
    Note.objects.create(thread=other, agent=agent, text="not this thread")
    Mute.objects.create(brand=brand, kind="customer", customer=customer, created_by=agent)

    said = queries.conversation(thread)
    expected = list(Message.objects.filter(thread=thread).order_by("sent_at", "x_id"))
    assert [_values(m) for m in said.messages] == [_values(m) for m in expected]
    replies = list(Reply.objects.filter(thread=thread).select_related("agent").order_by("id"))
    assert [_values(r) for r in said.replies] == [_values(r) for r in replies]
    assert [r.agent and r.agent.name for r in said.replies] == [agent.name, None]
    assert [n.text for n in queries.notes(thread)] == ["called the store"]
    assert queries.notes(thread)[0].agent.name == agent.name
    mutes = queries.live_mutes(customer)
    assert [(m.kind, m.created_by.name) for m in mutes] == [("customer", agent.name)]
    assert queries.notes(make_thread(brand, customer, 72)) == []


def test_a_uuid_argument_reads_the_reply_of_that_client_token(brand, agent, customer):
    """`uuids=1` (inbox.actions' resubmitted-form check): the row of that token, none for
    another; a token given as text is the same UUID."""
    import uuid

    from inbox.models import Reply

    thread = make_thread_with_message(brand, customer, "hello", conversation_id=80)
    token = uuid.uuid4()
    mine = Reply.objects.create(thread=thread, agent=agent, text="a", body="a", client_token=token)
    Reply.objects.create(thread=thread, agent=agent, text="b", body="b")
    by_token = Prepared(lambda t: Reply.objects.filter(client_token=t), arity=0, uuids=1)
    assert _values(by_token.first(token)) == _values(Reply.objects.get(client_token=token))
    assert by_token.first(str(token)).id == mine.id
    assert by_token.first(uuid.uuid4()) is None
    with pytest.raises(ValueError):
        Prepared(lambda: Reply.objects.all(), arity=0)


def test_the_newer_messages_and_a_closes_history_are_read_as_the_orm_reads_them(
    brand, agent, customer
):
    """inbox.queries.messages_after (the send's "@kim wrote again") and the close's
    episode (inbox.rollups.episode_start), prepared: the same rows as the ORM's."""
    from inbox import queries, rollups
    from inbox.models import Event, Message

    thread = make_thread_with_message(brand, customer, "first", conversation_id=81)
    first = Message.objects.filter(thread=thread).get()
    for n in range(12):
        Message.objects.create(
            brand=brand,
            thread=thread,
            x_id=810 + n,
            direction="in",
            author_x_id=customer.x_user_id,
            text=f"again {n}",
            conversation_id=81,
            sent_at=timezone.now(),
        )
    expected = list(Message.objects.filter(thread=thread, id__gt=first.id).order_by("id")[:10])
    found = queries.messages_after(thread, first.id)
    assert [_values(m) for m in found] == [_values(m) for m in expected] and len(found) == 10
    assert queries.messages_after(thread, expected[-1].id + 100) == []
    closed = Event.objects.create(brand=brand, thread=thread, verb="closed", actor=agent)
    reopened = Event.objects.create(brand=brand, thread=thread, verb="reopened")
    now = Event.objects.create(brand=brand, thread=thread, verb="closed", actor=agent)
    thread.refresh_from_db()
    assert rollups.episode_start(thread, now) == min(reopened.at, thread.waiting_since)
    assert rollups.episode_start(thread, closed) == thread.waiting_since  # its own row left out


def test_reads_together_give_what_each_gives_alone_in_one_round_trip(
    brand, agent, second_agent, customer
):
    """`together` (the dashboard's figures): each read's result is what it gives run
    alone (instances with their related rows, converted values, dicts, a first row or
    None, an empty result in the middle), from one execute."""
    from django.db import DEFAULT_DB_ALIAS, connection
    from django.db.models import Avg, Count
    from django.test.utils import CaptureQueriesContext

    from inbox.models import AnswerReview, Reply
    from twelp.prepared import Bound, PreparedRows, together

    claimed = make_thread(brand, customer, 90, claimed_by=agent, status="claimed")
    make_thread(brand, customer, 91)
    reply = Reply.objects.create(thread=claimed, agent=agent, text="a", body="a ^KI")
    for score, who in ((5, agent), (2, agent), (4, second_agent)):
        AnswerReview.objects.create(
            brand=brand,
            reply=Reply.objects.create(thread=claimed, agent=who, text="r", body="r"),
            agent=who,
            reviewer=agent,
            accuracy=score,
            tone=score,
            policy=score,
        )
    threads = Prepared(
        lambda b: Thread.objects.filter(brand_id=b).select_related("claimed_by").order_by("id")
    )
    since = timezone.now() - timedelta(days=1)
    averages = PreparedRows(
        lambda b, t: (
            AnswerReview.objects.filter(brand_id=b, created_at__gte=t)
            .values("agent_id")
            .annotate(n=Count("id"), accuracy=Avg("accuracy"))
            .order_by("agent_id")
        ),
        times=1,
        convert=True,
    )
    raw = Bound("SELECT %s::int + 1", [41], DEFAULT_DB_ALIAS, lambda rows: rows[0][0])
    reads = (
        threads.bound_all(brand.id),
        threads.bound_all(brand.id + 1000),  # no rows
        Prepared(lambda r: Reply.objects.filter(id=r)).bound_first(reply.id),
        Prepared(lambda r: Reply.objects.filter(id=r)).bound_first(reply.id + 1000),
        averages.bound_dicts(brand.id, since),
        raw,
    )
    with CaptureQueriesContext(connection) as executed:
        found = together(*reads)
    assert len(executed) == 1
    expected = list(Thread.objects.filter(brand=brand).select_related("claimed_by").order_by("id"))
    assert [_values(t) for t in found[0]] == [_values(t) for t in expected]
    assert found[0][0].claimed_by.name == agent.name and found[0][1].claimed_by is None
    assert found[1] == []
    assert _values(found[2]) == _values(reply) and found[3] is None
    orm = list(
        AnswerReview.objects.filter(brand=brand, created_at__gte=since)
        .values("agent_id")
        .annotate(n=Count("id"), accuracy=Avg("accuracy"))
        .order_by("agent_id")
    )
    assert found[4] == orm and isinstance(found[4][0]["accuracy"], float)
    assert found[4][0]["accuracy"] == 3.5
    assert found[5] == 42
    alone = [together(read)[0] for read in reads]  # each in an execute of its own
    assert [_values(t) for t in alone[0]] == [_values(t) for t in found[0]]
    assert alone[1:] == found[1:]
    assert together() == []


def test_reads_of_a_server_binding_cursor_run_one_after_the_other(brand, customer, settings):
    """A server-side-binding cursor takes one statement per execute: `together` then runs
    each read alone, with the same results."""
    from django.db import connections

    from twelp.prepared import together

    make_thread(brand, customer, 95)
    threads = Prepared(lambda b: Thread.objects.filter(brand_id=b).order_by("id"))
    connection = connections["default"]
    connection.ensure_connection()
    wanted = together(threads.bound_all(brand.id), threads.bound_all(brand.id + 1))
    from psycopg import Cursor

    raw = connection.connection
    before = raw.cursor_factory
    raw.cursor_factory = Cursor
    try:
        found = together(threads.bound_all(brand.id), threads.bound_all(brand.id + 1))
    finally:
        raw.cursor_factory = before
    assert [[t.id for t in rows] for rows in found] == [[t.id for t in rows] for rows in wanted]
    assert len(found[0]) == 1 and found[1] == []


def test_reads_together_prepared_give_the_same_in_one_pipeline(brand, agent, customer):
    """`together(..., prepare=True)` (the queue's first page): one pipeline of statements
    that psycopg prepares once run prepare_threshold times; the same results, each time,
    as the joined execute; one execute as Django counts them; a failing read raises
    Django's error and leaves the caller's transaction usable once rolled back to its
    savepoint."""
    from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, transaction
    from django.test.utils import CaptureQueriesContext

    from twelp.prepared import Bound, PreparedRows, together

    make_thread(brand, customer, 96, claimed_by=agent, status="claimed")
    make_thread(brand, customer, 97)
    threads = Prepared(
        lambda b: Thread.objects.filter(brand_id=b).select_related("claimed_by").order_by("id")
    )
    statuses = PreparedRows(
        lambda b: Thread.objects.filter(brand_id=b).order_by("id").values_list("id", "status")
    )
    raw = Bound("SELECT %s::int + 1", [41], DEFAULT_DB_ALIAS, lambda rows: rows[0][0])

    def reads():
        return (threads.bound_all(brand.id), statuses.bound(brand.id), raw)

    joined = together(*reads())
    connection.ensure_connection()
    assert connection.connection.prepare_threshold is not None  # settings: prepared on
    for _ in range(connection.connection.prepare_threshold + 2):
        with CaptureQueriesContext(connection) as executed:
            found = together(*reads(), prepare=True)
        assert len(executed) == 1
        assert [_values(t) for t in found[0]] == [_values(t) for t in joined[0]]
        assert found[1:] == joined[1:]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        kept = [row[0] for row in cursor.fetchall()]
    assert "SELECT $1::int + 1" in kept  # planned once on this connection, not each time
    broken = Bound("SELECT 1 / %s", [0], DEFAULT_DB_ALIAS, lambda rows: rows)
    with pytest.raises(DatabaseError), transaction.atomic():
        together(*reads(), broken, prepare=True)
    assert together(*reads(), prepare=True)[2] == 42
