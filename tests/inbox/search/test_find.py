"""Search (inbox.search.find, through the page /search/): what it finds, where it looks,
what it never shows, and its paging."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from agents.models import Role
from inbox.models import Brand, Customer, Message, Note, Reply, Thread
from inbox.search import find
from inbox.search.terms import parse
from tests.helpers import make_agent, make_thread, make_thread_with_message

pytestmark = pytest.mark.django_db


def hits(client, query: str) -> list[str]:
    response = client.get("/search/", {"q": query} if isinstance(query, str) else query)
    assert response.status_code == 200
    return re.findall(r'class="hit hit-(\w+)" data-thread-id="(\d+)"', response.content.decode())


def say(thread: Thread, text: str, x_id: int, *, channel: str = "tweet", ago: int = 0) -> Message:
    return Message.objects.create(
        brand=thread.brand,
        thread=thread,
        x_id=x_id,
        channel=channel,
        direction="in",
        author_x_id=thread.customer.x_user_id,
        text=text,
        conversation_id=thread.conversation_id,
        sent_at=timezone.now() - timedelta(minutes=ago),
    )


@pytest.fixture
def kim_thread(brand, customer):
    return make_thread_with_message(
        brand,
        customer,
        "My order #4411 never arrived and the tracking link says 'label created' for 9 days.",
    )


def test_it_finds_a_word_stemmed_and_a_phrase(client, agent, kim_thread):
    client.force_login(agent.user)
    assert hits(client, "arrive") == [("message", str(kim_thread.id))]
    assert hits(client, '"label created"') == [("message", str(kim_thread.id))]
    assert hits(client, '"created label"') == []


def test_it_finds_our_replies_and_notes_with_their_authors(client, agent, kim_thread):
    Reply.objects.create(
        thread=kim_thread, agent=agent, text="Sorry! The recall covers it.", body="x"
    )
    Note.objects.create(thread=kim_thread, agent=agent, text="Recall batch 7, see wiki")
    client.force_login(agent.user)
    response = client.get("/search/", {"q": "recall"})
    found = re.findall(r'class="hit hit-(\w+)"', response.content.decode())
    assert sorted(found) == ["note", "reply"]
    assert "Alice" in response.content.decode()


def test_a_handle_lists_that_customers_words_and_the_customer(client, agent, kim_thread, brand):
    other = Customer.objects.create(brand=brand, x_user_id=77, handle="lee", name="Lee Jones")
    make_thread_with_message(brand, other, "my order too", conversation_id=200)
    client.force_login(agent.user)
    response = client.get("/search/", {"q": "@KI"})
    assert hits(client, "@ki") == [("message", str(kim_thread.id))]
    assert "@kim" in response.content.decode() and "@lee" not in response.content.decode()
    assert hits(client, "@nobody") == []


def test_a_tag_scopes_to_tagged_customers(client, agent, kim_thread, customer):
    customer.tags = ["vip"]
    customer.save(update_fields=["tags"])
    client.force_login(agent.user)
    assert hits(client, "#vip order") == [("message", str(kim_thread.id))]
    assert hits(client, "#other order") == []


def test_it_never_shows_another_brands_rows(client, agent, kim_thread):
    brand_b = Brand.objects.create(name="Globex", handle="globexhelp", x_user_id=9_000_002)
    lee = Customer.objects.create(brand=brand_b, x_user_id=43, handle="kimberly", name="Kim B")
    theirs = make_thread_with_message(brand_b, lee, "my order never arrived", conversation_id=7)
    Note.objects.create(thread=theirs, agent=make_agent(brand_b, "gina"), text="order never")
    client.force_login(agent.user)
    assert hits(client, "arrived") == [("message", str(kim_thread.id))]
    assert hits(client, "@kim") == [("message", str(kim_thread.id))]
    assert "kimberly" not in client.get("/search/", {"q": "@kim"}).content.decode()


def test_a_trainee_searches_only_the_training_brand(client, brand, kim_thread):
    training = Brand.objects.create(
        name="Acme training", handle="acme_training", x_user_id=9_000_003, training_for=brand
    )
    trainee = make_agent(training, "tina")
    client.force_login(trainee.user)
    assert hits(client, "arrived") == []


def test_dms_are_found_by_employees_who_may_see_them(client, agent, brand, customer):
    dm = make_thread(brand, customer, customer.x_user_id, channel="dm")
    say(dm, "my card number ends 4242, refund please", 900, channel="dm")
    client.force_login(agent.user)
    assert hits(client, "refund") == [("message", str(dm.id))]
    assert hits(client, {"q": "refund", "channel": "tweet"}) == []
    assert find.sees_dms(agent)


def test_filters_by_status_agent_and_date(client, agent, second_agent, brand, customer):
    old = make_thread(brand, customer, 1, status="closed")
    new = make_thread(brand, customer, 2, last_answered_by=second_agent)
    say(old, "broken charger", 11, ago=60 * 24 * 10)
    say(new, "broken charger again", 12)
    client.force_login(agent.user)
    assert hits(client, {"q": "charger", "status": "closed"}) == [("message", str(old.id))]
    assert hits(client, {"q": "charger", "agent": second_agent.id}) == [("message", str(new.id))]
    today = timezone.localdate()
    since = {"q": "charger", "since": (today - timedelta(days=2)).isoformat()}
    assert hits(client, since) == [("message", str(new.id))]
    backwards = client.get("/search/", {"q": "x", "since": today, "until": today - timedelta(1)})
    assert "“Until” is before “since”" in backwards.content.decode()


def test_it_pages_by_keyset_without_repeats(client, agent, brand, customer):
    thread = make_thread(brand, customer, 1)
    for i in range(find.PAGE_SIZE + 5):
        say(thread, f"refund number {i}", 1000 + i, ago=i)
    Note.objects.create(thread=thread, agent=agent, text="refund policy", created_at=timezone.now())
    client.force_login(agent.user)
    first = client.get("/search/", {"q": "refund"}).content.decode()
    cursor = re.search(r'after=([\w%-]+)"', first).group(1)
    more = client.get(f"/search/?q=refund&after={cursor}", HTTP_HX_REQUEST="true")
    body = more.content.decode()
    assert "<html" not in body
    texts = re.findall(r"refund number (\d+)", first) + re.findall(r"refund number (\d+)", body)
    assert sorted(map(int, texts)) == list(range(find.PAGE_SIZE + 5))
    assert first.count("refund policy") == 1 and "refund policy" not in body


def test_a_page_costs_the_same_queries_whatever_it_finds(
    agent, brand, customer, django_assert_max_num_queries
):
    for n in range(30):
        thread = make_thread(brand, customer, 10 + n)
        say(thread, "refund", 500 + n)
        Note.objects.create(thread=thread, agent=agent, text="refund")
    # The search's transaction (here a savepoint and its release inside the test's) with
    # rule 7's setting; rule 6's estimate; customers; messages and replies: the walk,
    # then the text index when it fell short (find, rule 4); notes: at most 10.
    with django_assert_max_num_queries(10):
        page = find.search(agent, parse("refund"), find.Filters())
    assert len(page.hits) == find.PAGE_SIZE and page.next_cursor is not None


@pytest.mark.parametrize(
    "query",
    [
        '"unclosed',
        "order OR",
        "-",
        "a & b | !c <-> d",
        "'; DROP TABLE x; --",
        "日本語 注文",
        "(())",
    ],
)
def test_operators_and_quotes_are_answered_never_an_error(client, agent, kim_thread, query):
    client.force_login(agent.user)
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Messages, replies and notes" in body or "Emoji and punctuation alone" in body


def test_emoji_alone_and_5000_characters_are_refused_with_a_message(client, agent, kim_thread):
    client.force_login(agent.user)
    emoji = client.get("/search/", {"q": "😡😡😡"}).content.decode()
    assert "Emoji and punctuation alone" in emoji and 'class="hit' not in emoji
    long = client.get("/search/", {"q": "order " * 1000})
    assert long.status_code == 200
    assert "at most 200 characters" in long.content.decode()


def test_tweet_text_is_escaped(client, agent, brand, customer):
    thread = make_thread(brand, customer, 1)
    say(thread, "<script>alert(1)</script> refund", 5)
    client.force_login(agent.user)
    body = client.get("/search/", {"q": "refund"}).content.decode()
    assert "<script>alert(1)" not in body and "&lt;script&gt;" in body


def test_a_tampered_cursor_starts_from_the_top(client, agent, kim_thread):
    client.force_login(agent.user)
    response = client.get("/search/", {"q": "arrived", "after": "zz_9_x"})
    assert re.findall(r'data-thread-id="(\d+)"', response.content.decode()) == [str(kim_thread.id)]


def test_the_top_bar_has_the_search_box(client, agent):
    client.force_login(agent.user)
    assert 'id="topbar-search"' in client.get("/").content.decode()


def test_supervisors_find_answers_by_one_employee(client, brand, agent, second_agent, kim_thread):
    sue = make_agent(brand, "sue", role=Role.SUPERVISOR)
    Reply.objects.create(thread=kim_thread, agent=agent, text="recall info", body="a")
    Reply.objects.create(thread=kim_thread, agent=second_agent, text="recall notice", body="b")
    client.force_login(sue.user)
    response = client.get("/search/", {"q": "recall", "agent": second_agent.id}).content.decode()
    assert "recall notice" in response and "recall info" not in response


def test_what_x_says_to_hide_is_not_found(client, agent, kim_thread, customer):
    """X's compliance (inbox.data.compliance): protected, suspended or withheld content is
    hidden from search as from the queue."""
    Note.objects.create(thread=kim_thread, agent=agent, text="order never arrived, chased")
    client.force_login(agent.user)
    assert ("message", str(kim_thread.id)) in hits(client, "arrived")
    Message.objects.filter(thread=kim_thread).update(x_hidden="protected")
    assert ("message", str(kim_thread.id)) not in hits(client, "arrived")
    assert ("note", str(kim_thread.id)) in hits(client, "chased")  # the thread is not hidden
    Thread.objects.filter(id=kim_thread.id).update(x_hidden="protected")
    Customer.objects.filter(id=customer.id).update(x_hidden="protected")
    assert hits(client, "chased") == [] and hits(client, "@kim") == []
    assert find._customers(agent, parse("@kim")) == []


@pytest.mark.parametrize("rare", [frozenset(), frozenset({find.MESSAGE, find.REPLY})])
@pytest.mark.parametrize("walk", [3, 7, 1000])
def test_the_walk_and_the_text_index_give_the_same_pages(
    monkeypatch, agent, brand, customer, walk, rare
):
    """find rule 4: whether the short newest-first walk finds the page or falls back to the
    GIN index, or rule 6 skips the walk, the pages are the same, newest first, each match
    once; another brand's match never counts toward the walk's page."""
    monkeypatch.setattr(find, "WALK", walk)
    monkeypatch.setattr(find, "_rare_first", lambda words: rare)
    monkeypatch.setattr(find, "PAGE_SIZE", 4)
    brand_b = Brand.objects.create(name="Globex", handle="globexhelp", x_user_id=9_000_002)
    lee = Customer.objects.create(brand=brand_b, x_user_id=43, handle="lee", name="Lee")
    other = make_thread(brand_b, lee, 7)
    for n in range(12):
        thread = make_thread(brand, customer, 100 + n)
        # "refund" in every third message; "smoke" only in the two oldest
        text = "refund please" if n % 3 == 0 else "hello there"
        say(thread, text + (" smoke" if n >= 10 else ""), 900 + n, ago=n)
        Reply.objects.create(thread=thread, agent=agent, text=text, body="x")
        say(other, "refund please smoke", 5000 + n, ago=n)  # another brand's, as new
        Reply.objects.create(thread=other, agent=None, text="refund please", body="x")
    for word, expected in (("refund", [900, 903, 906, 909]), ("smoke", [910, 911])):
        seen, after = [], None
        while True:
            page = find.search(agent, parse(word), find.Filters(), after)
            seen += [h for h in page.hits if h.kind == find.MESSAGE]
            if page.next_cursor is None:
                break
            after = page.next_cursor
        assert [Message.objects.get(id=h.id).x_id for h in seen] == expected
    replies = find.search(agent, parse("refund"), find.Filters()).hits
    assert {Reply.objects.get(id=h.id).thread.brand_id for h in replies if h.kind == 1} == {
        brand.id
    }


def test_rare_words_skip_the_walk_by_postgresqls_own_estimate(monkeypatch, agent, brand, customer):
    """find rule 6: after ANALYZE, a word in most messages is walked; a word in none, and
    in replies a word no reply holds, go straight to the text index. A phrase of common
    words is estimated as any of its words (PostgreSQL's own guess is far too low)."""
    # PostgreSQL estimates at least one row of 60; a walk of 2,000 would expect 33 of it
    monkeypatch.setattr(find, "WALK", 100)
    for n in range(60):
        thread = make_thread(brand, customer, 100 + n)
        say(thread, "my refund label created" if n % 2 else "refund please", 900 + n)
        Reply.objects.create(thread=thread, agent=agent, text="sorry to hear that", body="x")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inbox_message, inbox_reply")
    assert find._rare_first("refund") == {find.REPLY}
    assert find._rare_first("smoke") == {find.MESSAGE, find.REPLY}
    assert find._rare_first("sorry") == {find.MESSAGE}
    assert find._rare_first('"label created"') == {find.REPLY}
    assert find._rare_first('"unclosed') == {find.MESSAGE, find.REPLY}
    walked = []
    real_first = find._first

    def first(kind, *args, walk, **kwargs):
        walked.append((kind, walk))
        return real_first(kind, *args, walk=walk, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(find, "_first", first)
        smoke = find.search(agent, parse("smoke"), find.Filters())
        refund = find.search(agent, parse("refund"), find.Filters())
    assert smoke.hits == [] and len(refund.hits) == find.PAGE_SIZE
    assert walked == [(0, False), (1, False), (2, False), (0, True), (1, False), (2, False)]


@pytest.mark.django_db(transaction=True)
def test_a_search_runs_without_parallel_workers_and_leaves_the_session_as_it_was(
    monkeypatch, agent, kim_thread
):
    """find rule 7: SET LOCAL, for the search's own statements (workers and hash joins)."""
    seen = []
    real_search = find._search

    def search(*args):
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            seen.append(cursor.fetchone()[0])
            cursor.execute("SHOW enable_hashjoin")
            seen.append(cursor.fetchone()[0])
        return real_search(*args)

    monkeypatch.setattr(find, "_search", search)
    with transaction.atomic():
        before = _setting()
        assert find.search(agent, parse("arrived"), find.Filters()).hits
        assert seen == ["0", "off"] and before != "0"
    assert _setting() == before  # committed: the session's own setting again


def _setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        return cursor.fetchone()[0]


def test_it_filters_by_language_on_the_page_and_in_the_api(client, agent, admin_agent, brand):
    """X's `lang`: a message's own; a reply's or a note's, its thread's."""
    from inbox.integrations import tokens

    kim = Customer.objects.create(brand=brand, x_user_id=50, handle="kim2", name="Kim")
    ana = Customer.objects.create(brand=brand, x_user_id=51, handle="ana", name="Ana")
    english, spanish = make_thread(brand, kim, 1, lang="en"), make_thread(brand, ana, 2, lang="es")
    Message.objects.filter(id=say(english, "pedido order", 10).id).update(lang="en")
    Message.objects.filter(id=say(spanish, "pedido perdido", 11).id).update(lang="es")
    Note.objects.create(thread=spanish, agent=agent, text="pedido escalated")
    client.force_login(agent.user)
    assert sorted(hits(client, {"q": "pedido", "lang": "es"})) == [
        ("message", str(spanish.id)),
        ("note", str(spanish.id)),
    ]
    assert hits(client, {"q": "pedido", "lang": "en"}) == [("message", str(english.id))]
    token = tokens.create_token(actor=admin_agent, name="CRM", scope="read").token
    answer = client.get(
        "/api/v1/search", {"q": "pedido", "lang": "en"}, HTTP_AUTHORIZATION=f"Bearer {token}"
    ).json()
    assert [(h["kind"], h["thread"]["id"]) for h in answer["hits"]] == [("message", english.id)]
