"""The queue's first page after a change of named threads: the heads kept for the version
before are patched with the named threads' alone (inbox.queries.FirstHeads), never stale.

Each change below is made through the app's own action, its on-commit callbacks run, so
the queue version moves naming the threads the action touched, as in production. Then
every tab is served warm (patched, its rows kept) and compared with a cold render of the
same version (nothing kept here or in Redis, everything read again).
"""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox import actions, queries
from inbox.live import version
from inbox.models import Brand, Message, Thread, ThreadStatus
from inbox.routing import teams
from inbox.templatetags import kept, queue_rows
from tests.helpers import login, make_agent, make_thread

# The whole first page read again: the heads of a page, its next row and the spares.
READ_ALL = f"LIMIT {queries.PAGE_SIZE + 1 + queries.SPARE}"


def _page(client, who, status: str) -> tuple[str, str]:
    """The live part of the tab as `who` gets it, and the SQL it ran."""
    login(client, who.user)
    with CaptureQueriesContext(connection) as ran:
        html = client.get(f"/?status={status}", HTTP_HX_REQUEST="true").content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r"v=[\d.]+", "v=", html), "\n".join(q["sql"] for q in ran.captured_queries)


def _forget() -> None:
    """Nothing kept: no part, no row (here or in Redis), no heads."""
    kept.forget()
    queue_rows._local.clear()
    queries._kept_heads.clear()
    redis = cache._cache.get_client(write=True)
    for key in redis.scan_iter(match="*:qrow:*"):
        redis.delete(key)


def _rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-thread-id="(\d+)"', html)]


def _wrote(thread: Thread, x_id: int) -> Message:
    return Message.objects.create(
        brand=thread.brand,
        thread=thread,
        x_id=x_id,
        direction="in",
        author_x_id=thread.customer.x_user_id,
        text="still nothing",
        conversation_id=thread.conversation_id,
        sent_at=timezone.now(),
    )


def test_the_first_page_after_each_kind_of_change_equals_a_cold_one(
    client, agent, second_agent, supervisor, customer, django_capture_on_commit_callbacks
):
    now = timezone.now()
    base = now - timedelta(hours=5)
    # 80 open threads (a page, its next row, the spares and more), a few answered.
    live = [
        make_thread(agent.brand, customer, n, waiting_since=base + timedelta(minutes=n))
        for n in range(80)
    ]
    answered = [
        make_thread(
            agent.brand,
            customer,
            200 + n,
            status=ThreadStatus.ANSWERED,
            waiting_since=base + timedelta(minutes=n, seconds=30),
        )
        for n in range(3)
    ]
    tabs = ((agent, "open"), (agent, "answered"), (agent, "claimed"), (supervisor, "open"))
    shown: dict[str, dict[tuple[int, str], str]] = {}
    came: list[Thread] = []

    def claim():
        actions.do_claim(live[0].id, agent=agent)

    def release():
        actions.do_release(live[0].id, agent=agent)

    def ingest():  # a new mention at the top, named as the poller names it
        fresh = make_thread(agent.brand, customer, 500, waiting_since=base - timedelta(hours=1))
        came.append(fresh)
        version.bump(agent.brand_id, [fresh.id])

    def wrote():  # the customer again on an answered thread: it reopens, open again
        actions.do_customer_wrote(answered[0], _wrote(answered[0], 9001))

    def reply():
        actions.do_claim(live[1].id, agent=agent)
        actions.do_send_reply(live[1].id, agent=agent, text="@kim on its way")

    def close():
        actions.do_claim(live[2].id, agent=agent)
        actions.do_close(live[2].id, agent=agent)

    def reassign():
        actions.do_reassign(live[3].id, to=second_agent, actor=supervisor)

    def expiry():
        actions.do_claim(live[4].id, agent=agent)
        assert actions.do_expire_leases(now=now + timedelta(hours=1)) == 2  # and live[3]

    def team_move():  # a team deleted: its threads go to the default team
        team = teams.do_create_team("Billing", agent=supervisor)
        Thread.objects.filter(id__in=[t.id for t in live[5:8]]).update(team=team)
        version.bump(agent.brand_id)  # a write of the test's own: everything may have moved
        for who, status in tabs:
            _page(client, who, status)
        teams.do_delete_team(team.id, agent=supervisor)

    def moved():  # a row from far down the list comes to the top, pushing one out
        actions.do_claim(live[70].id, agent=agent)
        Thread.objects.filter(id=live[70].id).update(priority=9)
        actions.do_release(live[70].id, agent=agent)

    changes = (claim, release, ingest, wrote, reply, close, reassign, expiry, team_move, moved)
    with time_machine.travel(now, tick=False):
        version.bump(agent.brand_id)
        for who, status in tabs:  # kept as they are before the changes
            _page(client, who, status)
        for change in changes:
            with django_capture_on_commit_callbacks(execute=True):
                change()
            warm = {}
            for who, status in tabs:
                html, sql = _page(client, who, status)
                if change is not team_move:  # a team's change names no thread: read again
                    assert READ_ALL not in sql, (change.__name__, status)
                warm[who.id, status] = html
            for who, status in tabs:
                _forget()
                version.bump(agent.brand_id)
                cold, sql = _page(client, who, status)
                assert READ_ALL in sql
                assert warm[who.id, status] == cold, (change.__name__, who.role, status)
            shown[change.__name__] = warm
            for who, status in tabs:  # each tab as of the last cold render's version
                _page(client, who, status)
    open_rows = {name: _rows(pages[agent.id, "open"]) for name, pages in shown.items()}
    assert all(len(rows) == queries.PAGE_SIZE for rows in open_rows.values())
    assert live[0].id not in open_rows["claim"] and live[0].id in open_rows["release"]
    assert open_rows["ingest"][0] == came[0].id
    assert answered[0].id not in _rows(shown["wrote"][agent.id, "answered"])  # open, at the end
    assert live[1].id in _rows(shown["reply"][agent.id, "answered"])
    assert live[2].id not in open_rows["close"] + _rows(shown["close"][agent.id, "claimed"])
    assert live[3].id in _rows(shown["reassign"][agent.id, "claimed"])
    assert live[4].id in open_rows["expiry"]
    assert open_rows["moved"][0] == live[70].id


def test_more_changes_than_the_spares_hold_read_the_page_again(
    client, agent, customer, django_capture_on_commit_callbacks
):
    """Claims of more first-page threads than the spares past the page: the page read
    again, rows from past the spares on it, equal to a cold render."""
    now = timezone.now()
    threads = [
        make_thread(agent.brand, customer, n, waiting_since=now - timedelta(minutes=200 - n))
        for n in range(queries.PAGE_SIZE + queries.SPARE + 10)
    ]
    Brand.objects.filter(id=agent.brand_id).update(max_held=100)  # no cap in the way
    colleague = make_agent(Brand.objects.get(id=agent.brand_id), "carl")
    with time_machine.travel(now, tick=False):
        version.bump(agent.brand_id)
        _page(client, agent, "open")
        read_again = 0
        for thread in threads[: queries.SPARE + 2]:
            with django_capture_on_commit_callbacks(execute=True):
                actions.do_claim(thread.id, agent=colleague)
            warm, sql = _page(client, agent, "open")
            read_again += READ_ALL in sql
        assert read_again >= 1  # the spares ran out at least once
        _forget()
        version.bump(agent.brand_id)
        cold, _ = _page(client, agent, "open")
    assert warm == cold
    assert _rows(warm) == [t.id for t in threads[queries.SPARE + 2 :]][: queries.PAGE_SIZE]


def test_a_change_naming_no_thread_reads_the_page_again(
    client, agent, customer, django_capture_on_commit_callbacks
):
    """A write that names no thread ("*" in the change log) and the minute turning: the
    page is read again whole, so what such a write did is shown."""
    now = timezone.now()
    thread = make_thread(agent.brand, customer, 1, waiting_since=now, preview="first")
    with time_machine.travel(now.replace(second=5), tick=False):
        version.bump(agent.brand_id)
        _page(client, agent, "open")
        Thread.objects.filter(id=thread.id).update(preview="changed unnamed")
        version.bump(agent.brand_id)
        html, sql = _page(client, agent, "open")
        assert READ_ALL in sql and "changed unnamed" in html
        Thread.objects.filter(id=thread.id).update(preview="changed bypassing")
    with time_machine.travel(now.replace(second=5) + timedelta(minutes=1), tick=False):
        html, sql = _page(client, agent, "open")  # the next minute: a new version
        assert READ_ALL in sql and "changed bypassing" in html


def test_a_named_thread_that_moves_past_the_kept_rows_is_not_put_after_them():
    """The kept heads are a prefix of the list: a named thread now past their last row may
    have unread rows before it, so it is left out, and when the rows left are fewer than a
    page and its next row, the page is read again (None)."""
    from inbox.queries import PAGE_SIZE, SPARE, RowHead, _Kept, _patched

    start = timezone.now()

    def head(n: int) -> tuple:
        values = {"id": n, "customer_id": 1, "priority": 0, "status": "open", "digest": "d"}
        values |= {"waiting_since": start + timedelta(seconds=n)}
        return tuple(values.get(c) for c in RowHead.COLUMNS)

    rows = tuple(head(n) for n in range(1, PAGE_SIZE + SPARE + 2))  # a prefix of a longer list
    kept = _Kept(counter=1, minute="1200", rows=rows, complete=False)
    gone = set(range(1, SPARE + 1))  # claimed: no longer on the list
    patched, complete = _patched(kept, [head(500)], gone | {500})
    assert [row[0] for row in patched] == list(range(SPARE + 1, PAGE_SIZE + SPARE + 2))
    assert not complete
    assert _patched(kept, [head(500)], gone | {SPARE + 1, 500}) is None
    moved_up = (*head(500)[:2], 1, *head(500)[3:])  # its priority raised: first now
    patched, _ = _patched(kept, [moved_up], {500})
    assert patched[0][0] == 500 and len(patched) == len(rows)  # the last one trimmed off
