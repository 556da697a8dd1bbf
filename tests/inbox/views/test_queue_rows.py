"""The queue's rows are rendered once per change of what they show and reused by every
page of the brand (inbox.templatetags.queue_rows): never stale, never another viewer's."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from inbox import actions
from inbox.live import version
from inbox.models import Thread
from tests.helpers import make_agent, make_thread


def _kept_rows() -> dict[int, set[str]]:
    """{thread id: its kept row keys} in this run's cache."""
    client = cache._cache.get_client(write=True)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    kept: dict[int, set[str]] = {}
    for key in client.scan_iter(match=f"{prefix}:*:qrow:*", count=1000):
        thread_id = int(key.decode().rsplit(":", 2)[-2])
        kept.setdefault(thread_id, set()).add(key.decode())
    return kept


def _row(html: str, thread: Thread) -> str:
    found = re.search(rf'<tr data-thread-id="{thread.id}".*?</tr>', html, re.S)
    assert found, f"no row for thread {thread.id}"
    return found.group(0)


def test_a_row_is_kept_and_reused_until_what_it_shows_changes(client, agent, customer):
    now = timezone.now()
    first = make_thread(agent.brand, customer, 1, preview="where is my order", waiting_since=now)
    second = make_thread(agent.brand, customer, 2, preview="wrong size", waiting_since=now)
    client.force_login(agent.user)
    client.get("/")
    kept = _kept_rows()
    assert set(kept) == {first.id, second.id}

    actions.do_claim(first.id, agent=agent)
    html = client.get("/?status=claimed").content.decode()
    assert f"{agent.name} ^" in _row(html, first)
    client.get("/")
    after = _kept_rows()
    # The claimed thread got a new row (its holder and status changed); the other row is
    # the very entry kept before, not rendered again.
    assert after[second.id] == kept[second.id]
    assert after[first.id] - kept[first.id]


def test_a_changed_preview_is_shown_at_once(client, agent, customer):
    thread = make_thread(agent.brand, customer, 1, preview="first words")
    client.force_login(agent.user)
    assert "first words" in _row(client.get("/").content.decode(), thread)
    Thread.objects.filter(id=thread.id).update(preview="second words")
    version.bump(agent.brand_id)  # as every write through inbox.actions does
    html = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert "second words" in _row(html, thread)
    assert "first words" not in html


def test_the_waiting_label_ages_with_the_clock(client, agent, customer):
    thread = make_thread(agent.brand, customer, 1, waiting_since=timezone.now())
    client.force_login(agent.user)
    assert "just now" in _row(client.get("/").content.decode(), thread)
    with time_machine.travel(timezone.now() + timedelta(minutes=7), tick=False):
        html = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert "7 min" in _row(html, thread)


def test_a_supervisors_row_is_not_served_to_an_agent(client, agent, brand, customer):
    thread = make_thread(brand, customer, 1)
    boss = make_agent(brand, "boss", role="supervisor")
    client.force_login(boss.user)
    boss_row = _row(client.get("/", HTTP_HX_REQUEST="true").content.decode(), thread)
    assert 'name="thread"' in boss_row  # the pick box of bulk actions
    client.force_login(agent.user)
    agent_row = _row(client.get("/", HTTP_HX_REQUEST="true").content.decode(), thread)
    assert 'name="thread"' not in agent_row
    assert len(_kept_rows()[thread.id]) == 2


def test_rows_of_one_brand_are_never_served_to_another(client, agent, customer, db):
    from inbox.models import Brand, Customer

    thread = make_thread(agent.brand, customer, 1, preview="brand one's words")
    other_brand = Brand.objects.create(name="Other", handle="other", x_user_id=999)
    other_customer = Customer.objects.create(
        brand=other_brand, x_user_id=customer.x_user_id, handle=customer.handle
    )
    other = make_thread(other_brand, other_customer, 1, preview="brand two's words")
    client.force_login(agent.user)
    client.get("/")
    client.force_login(make_agent(other_brand, "olga").user)
    html = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert "brand two&#x27;s words" in _row(html, other)
    assert "brand one" not in html
    assert f'data-thread-id="{thread.id}"' not in html


# --- issue 14, h14q: rows read as heads, labels that age filled in per page ---------------


def _at(moment):
    return time_machine.travel(moment, tick=False)


def _second_10():
    """An instant at :10 past a minute: a second later is the same minute (one version)."""
    return timezone.now().replace(second=10, microsecond=0)


def test_a_kept_row_serves_the_next_second_with_its_waiting_label_current(client, agent, customer):
    # Under ten minutes the label counts seconds ("4 min 5 s"): kept with it, a row was
    # new every second and every page after a change rendered all of its rows again.
    t0 = _second_10()
    thread = make_thread(
        agent.brand, customer, 1, waiting_since=t0 - timedelta(minutes=4, seconds=5)
    )
    other = make_thread(agent.brand, customer, 2, waiting_since=t0)
    client.force_login(agent.user)
    with _at(t0):
        html = client.get("/").content.decode()
    assert ">4 min 5 s</time>" in _row(html, thread)
    kept = _kept_rows()
    with _at(t0 + timedelta(seconds=1)):
        Thread.objects.filter(id=other.id).update(preview="changed")
        version.bump(agent.brand_id, [other.id])
        html = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert ">4 min 6 s</time>" in _row(html, thread)
    after = _kept_rows()
    assert after[thread.id] == kept[thread.id]  # the same row, its label filled in anew
    assert after[other.id] - kept[other.id]  # the changed one rendered again


def test_the_sla_badge_and_its_countdown_follow_the_clock(client, agent, customer):
    t0 = _second_10()
    # The brand's target is 15 minutes, warned at 75%: 12 minutes waited is near.
    thread = make_thread(agent.brand, customer, 1, waiting_since=t0 - timedelta(minutes=12))
    client.force_login(agent.user)
    with _at(t0):
        row = _row(client.get("/").content.decode(), thread)
    assert 'class="sla-near"' in row and "due in 3 min<" in row
    with _at(t0 + timedelta(seconds=1)):
        version.bump(agent.brand_id)
        row = _row(client.get("/", HTTP_HX_REQUEST="true").content.decode(), thread)
    assert "due in 2 min 59 s<" in row
    with _at(t0 + timedelta(minutes=4)):
        version.bump(agent.brand_id)
        row = _row(client.get("/", HTTP_HX_REQUEST="true").content.decode(), thread)
    assert 'class="sla-breach"' in row and "past target" in row and "due in" not in row


def test_what_a_row_shows_of_its_customer_holder_and_team_is_never_stale(
    client, agent, customer, brand
):
    from inbox.models import Team

    team = Team.objects.create(brand=brand, name="Billing")
    thread = make_thread(brand, customer, 1, team=team, priority=1)
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    url = "/?status=claimed&team=all"
    row = _row(client.get(url).content.decode(), thread)
    assert "Billing" in row and f"{agent.name} ^" in row and ">Normal<" in row
    type(customer).objects.filter(id=customer.id).update(name="Renamed Customer")
    team.name = "Refunds"
    team.save()
    type(agent).objects.filter(id=agent.id).update(name="Kimberly")
    Thread.objects.filter(id=thread.id).update(priority=30)  # no updated_at: a plain UPDATE
    version.bump(brand.id)
    row = _row(client.get(url, HTTP_HX_REQUEST="true").content.decode(), thread)
    assert "Renamed Customer" in row and "Refunds" in row and "Kimberly ^" in row
    assert "Billing" not in row and ">High<" in row


def test_a_row_read_whole_is_kept_under_what_it_shows(agent, customer):
    """The heads' digest and the whole read's are the same for the same columns; any
    column of the thread or its customer moved gives another."""
    from inbox import queries

    thread = make_thread(agent.brand, customer, 1)
    (head,), _ = queries.queue_heads(agent.brand_id)
    whole = queries.queue_threads(agent.brand_id, [thread.id])[thread.id]
    assert head.id == thread.id and head.digest == whole.digest
    type(customer).objects.filter(id=customer.id).update(description="new bio")
    (moved,), _ = queries.queue_heads(agent.brand_id)
    assert moved.digest != head.digest
    assert queries.queue_threads(agent.brand_id, [thread.id])[thread.id].digest == moved.digest
    # Another brand's thread is never read as this brand's.
    assert queries.queue_threads(agent.brand_id + 1, [thread.id]) == {}


def test_rows_are_in_the_readers_language_and_their_labels_too(client, agent, brand, customer):
    thread = make_thread(brand, customer, 1, waiting_since=timezone.now())
    spanish = make_agent(brand, "sofia")
    type(spanish).objects.filter(id=spanish.id).update(language="es")
    client.force_login(agent.user)
    assert "just now" in _row(client.get("/").content.decode(), thread)
    client.force_login(spanish.user)
    row = _row(client.get("/", HTTP_HX_REQUEST="true").content.decode(), thread)
    assert "ahora mismo" in row and "just now" not in row
    assert len(_kept_rows()[thread.id]) == 2


def test_a_hidden_thread_leaves_the_page(client, agent, customer):
    thread = make_thread(agent.brand, customer, 1, preview="to be hidden")
    client.force_login(agent.user)
    assert "to be hidden" in client.get("/").content.decode()
    Thread.objects.filter(id=thread.id).update(x_hidden="deleted")
    version.bump(agent.brand_id)
    html = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert "to be hidden" not in html and f'data-thread-id="{thread.id}"' not in html


def test_the_columns_left_out_of_a_rows_key_are_never_shown_by_it():
    """inbox.queries.NOT_SHOWN: columns that move on their own clock are not in a row's
    digest; were the row template (or what it includes) to show one, kept rows would be
    stale. So it must not name them."""
    from django.template.loader import get_template

    from inbox.queries import KEYED_WHILE_ON, NOT_SHOWN

    sources = get_template("inbox/queue.html#row").template.source
    assert "<tr data-thread-id" in sources  # the row's own source, not the page's
    sources += get_template("inbox/noise_dismiss.html#pick").template.source
    for columns in NOT_SHOWN.values():
        for column in columns - KEYED_WHILE_ON:  # those are in the key while shown
            assert column not in sources


def test_a_thread_offered_to_its_last_answerer_says_so_until_the_offer_ends(
    client, agent, second_agent, customer
):
    """A customer who wrote again is Bob's first (Claim next gives it to nobody else until
    the offer ends): Alice's queue says so, and stops saying it when the offer is over."""
    thread = make_thread(agent.brand, customer, 1)
    Thread.objects.filter(id=thread.id).update(
        offered_to=second_agent,
        last_answered_by=second_agent,
        offer_expires_at=timezone.now() + timedelta(minutes=5),
    )
    version.bump(agent.brand_id)
    client.force_login(agent.user)
    row = _row(client.get("/").content.decode(), thread)
    assert f'data-offered-to="{second_agent.id}"' in row
    assert f"Offered to {second_agent.name}" in row
    assert actions.do_claim_next(agent=agent) is None  # as the row says

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        version.bump(agent.brand_id)
        row = _row(client.get("/").content.decode(), thread)
        assert "data-offered-to" not in row and "Offered to" not in row
        assert actions.do_claim_next(agent=agent) == thread


def test_the_parts_kept_around_the_rows_are_never_stale(client, agent, supervisor, customer):
    """The table head, the budgets and the "More" row are kept by what they show
    (inbox.templatetags.kept): after each change the page equals one rendered cold."""
    from inbox.queries import PAGE_SIZE
    from inbox.templatetags import kept
    from tests.helpers import login

    def live(who) -> str:
        login(client, who.user)  # a supervisor passes two-factor too
        html = client.get("/", HTTP_HX_REQUEST="true").content.decode()
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
        return re.sub(r"v=[\d.]+", "v=", html)  # the version (bumped)

    now = timezone.now()
    threads = [make_thread(agent.brand, customer, n, waiting_since=now) for n in range(2)]
    pages = []
    with time_machine.travel(now, tick=False):
        before = live(agent)  # kept as they are before the changes

        def more():  # a second page: the "More" row appears
            for n in range(PAGE_SIZE):
                make_thread(agent.brand, customer, 100 + n, waiting_since=now)

        def claim():
            actions.do_claim(threads[0].id, agent=agent)

        for change in (more, claim):
            change()
            for who in (agent, supervisor):  # the supervisor's head has a pick column
                version.bump(agent.brand_id)
                warm = live(who)
                kept.forget()
                version.bump(agent.brand_id)
                assert warm == live(who), (change.__name__, who.role)
                pages.append(warm)
    assert 'id="more"' not in before
    assert 'id="more"' in pages[0]
    assert 'class="col-pick"' in pages[1] and 'class="col-pick"' not in pages[0]


def test_a_warm_queue_after_each_kind_of_change_equals_a_cold_one(
    client, agent, supervisor, customer
):
    """The first page's reads go in one pipeline of prepared statements (twelp.prepared,
    prepare=True) and its rows and parts are kept: after a new mention, a claim, a reply,
    a release, a customer's new handle and a close, each tab as served warm (statements
    prepared, rows and parts kept) equals it rendered cold (nothing kept: no kept part,
    no kept row here or in Redis), against the real PostgreSQL and Redis."""
    from django.db import connection

    from inbox.models import Customer
    from inbox.templatetags import kept, queue_rows
    from tests.helpers import login

    def page(who, status: str) -> str:
        login(client, who.user)
        html = client.get(f"/?status={status}", HTTP_HX_REQUEST="true").content.decode()
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
        return re.sub(r"v=[\d.]+", "v=", html)  # the version (bumped)

    def cold() -> None:
        kept.forget()
        queue_rows._local.clear()
        for key in cache._cache.get_client(write=True).scan_iter(match="*:qrow:*"):
            cache._cache.get_client(write=True).delete(key)

    now = timezone.now()
    threads = [make_thread(agent.brand, customer, n, waiting_since=now) for n in range(3)]
    connection.ensure_connection()
    with time_machine.travel(now, tick=False):
        for _ in range(connection.connection.prepare_threshold + 1):  # prepared from here on
            version.bump(agent.brand_id)
            page(agent, "open")

        def mention():
            threads.append(make_thread(agent.brand, customer, 50, waiting_since=now))

        def claim():
            actions.do_claim(threads[0].id, agent=agent)

        def reply():
            actions.do_send_reply(threads[0].id, agent=agent, text="@c on its way")

        def release():
            actions.do_claim(threads[1].id, agent=agent)
            actions.do_release(threads[1].id, agent=agent)

        def renamed():
            Customer.objects.filter(pk=customer.pk).update(handle="renamed_kim")

        def close():
            actions.do_claim(threads[2].id, agent=agent)
            actions.do_close(threads[2].id, agent=agent)

        shown = []
        for change in (mention, claim, reply, release, renamed, close):
            change()
            for who, status in ((agent, "open"), (agent, "answered"), (supervisor, "open")):
                version.bump(agent.brand_id)
                warm = page(who, status)
                cold()
                version.bump(agent.brand_id)
                assert warm == page(who, status), (change.__name__, who.role, status)
                shown.append(warm)
    assert f'data-thread-id="{threads[3].id}"' in shown[0]  # the mention came
    assert f'data-thread-id="{threads[0].id}"' not in shown[3]  # claimed: not open
    assert f'data-thread-id="{threads[0].id}"' in shown[7]  # answered
    assert "renamed_kim" in shown[12]
    assert f'data-thread-id="{threads[2].id}"' not in shown[15]  # closed
