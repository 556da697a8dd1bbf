"""GET /api/v1/search (inbox.api.v1.search over inbox.search.find) and the DM scope of
tokens on every API read: what a token finds, what it never sees, its pages, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Role
from inbox import actions
from inbox.integrations import tokens
from inbox.models import Brand, Channel, Customer, Event, Message, Note, Reply, Thread
from tests.helpers import make_agent, make_thread

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def problem(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == response.status_code
    return body


def say(thread: Thread, text: str, x_id: int, *, ago: int = 0) -> Message:
    return Message.objects.create(
        brand=thread.brand,
        thread=thread,
        x_id=x_id,
        channel=thread.channel,
        direction="in",
        author_x_id=thread.customer.x_user_id,
        text=text,
        conversation_id=thread.conversation_id,
        sent_at=timezone.now() - timedelta(minutes=ago),
    )


@pytest.fixture
def read_token(admin_agent) -> str:
    return tokens.create_token(actor=admin_agent, name="CRM", scope="read").token


@pytest.fixture
def dm_token(admin_agent) -> str:
    return tokens.create_token(actor=admin_agent, name="Care BI", scope="read", dms=True).token


@pytest.fixture
def tweet(brand, customer) -> Thread:
    thread = make_thread(brand, customer, 100)
    say(thread, "My charger never arrived, the label says created", 100, ago=5)
    return thread


@pytest.fixture
def dm(brand, customer) -> Thread:
    thread = make_thread(brand, customer, customer.x_user_id, channel=Channel.DM)
    say(thread, "Private: my charger order number is 4411", 200, ago=1)
    return thread


def found(client, token: str, **params) -> list[tuple[str, int]]:
    response = client.get("/api/v1/search", params, **bearer(token))
    assert response.status_code == 200, response.content
    return [(hit["kind"], hit["thread"]["id"]) for hit in response.json()["hits"]]


def test_it_finds_messages_replies_and_notes_newest_first(client, agent, tweet, read_token):
    Reply.objects.create(thread=tweet, agent=agent, text="A new charger is on its way", body="x")
    Note.objects.create(thread=tweet, agent=agent, text="charger recall batch 7")
    response = client.get("/api/v1/search", {"q": "charger"}, **bearer(read_token))
    body = response.json()
    assert [hit["kind"] for hit in body["hits"]] == ["note", "reply", "message"]
    message = body["hits"][2]
    assert message["author"] == f"@{tweet.customer.handle}"
    assert message["thread"] == {"id": tweet.id, "status": "open", "channel": "tweet"}
    assert message["customer"]["handle"] == tweet.customer.handle
    assert body["next"] is None


def test_a_token_without_dms_never_finds_a_dm(client, tweet, dm, read_token, dm_token):
    assert found(client, read_token, q="charger") == [("message", tweet.id)]
    assert found(client, dm_token, q="charger") == [("message", dm.id), ("message", tweet.id)]
    response = client.get("/api/v1/search", {"q": "x", "channel": "dm"}, **bearer(read_token))
    assert response.status_code == 403
    assert "direct messages" in problem(response)["detail"]


def test_a_token_without_dms_sees_no_dm_thread_anywhere(client, agent, tweet, dm, read_token):
    actions.do_add_note(dm.id, agent=agent, text="refund agreed in DM")
    auth = bearer(read_token)
    listed = client.get("/api/v1/threads", **auth).json()["threads"]
    assert [t["id"] for t in listed] == [tweet.id]
    assert client.get(f"/api/v1/threads/{dm.id}", **auth).status_code == 404
    assert Event.objects.filter(thread=dm, verb="noted").exists()
    events = client.get("/api/v1/events", **auth).json()["events"]
    assert dm.id not in {e["thread_id"] for e in events}


def test_a_dm_token_reads_dm_threads(client, agent, dm, dm_token):
    actions.do_add_note(dm.id, agent=agent, text="refund agreed in DM")
    auth = bearer(dm_token)
    assert [t["id"] for t in client.get("/api/v1/threads", **auth).json()["threads"]] == [dm.id]
    assert client.get(f"/api/v1/threads/{dm.id}", **auth).status_code == 200
    events = client.get("/api/v1/events", **auth).json()["events"]
    assert dm.id in {e["thread_id"] for e in events}


def test_a_write_token_without_dms_cannot_note_a_dm_thread(client, admin_agent, dm):
    token = tokens.create_token(actor=admin_agent, name="Orders", scope="write").token
    response = client.post(
        f"/api/v1/threads/{dm.id}/notes",
        {"text": "hello"},
        content_type="application/json",
        **bearer(token),
    )
    assert response.status_code == 404
    assert not Note.objects.filter(thread=dm).exists()


def test_another_brands_token_finds_nothing_of_ours(client, tweet, dm):
    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=9_000_002)
    theirs = Customer.objects.create(brand=other, x_user_id=77, handle="kimother")
    say(make_thread(other, theirs, 900), "their charger too", 900)
    boss = make_agent(other, "olga", role=Role.ADMIN)
    token = tokens.create_token(actor=boss, name="Theirs", scope="read", dms=True).token
    response = client.get("/api/v1/search", {"q": "charger"}, **bearer(token))
    assert [hit["text"] for hit in response.json()["hits"]] == ["their charger too"]
    kim = client.get("/api/v1/search", {"q": f"@{tweet.customer.handle}"}, **bearer(token))
    assert kim.json()["customers"] == [] or all(
        c["id"] == theirs.id for c in kim.json()["customers"]
    )
    assert all(hit["thread"]["id"] not in (tweet.id, dm.id) for hit in kim.json()["hits"])


def test_it_pages_by_keyset_without_repeats(client, brand, customer, read_token):
    for n in range(60):
        thread = make_thread(brand, customer, 1000 + n)
        say(thread, f"refund please, order {n}", 1000 + n, ago=n)
    seen: list[int] = []
    after = ""
    for _ in range(5):
        body = client.get("/api/v1/search", {"q": "refund", "after": after}, **bearer(read_token))
        body = body.json()
        seen += [hit["id"] for hit in body["hits"]]
        if not body["next"]:
            break
        after = body["next"]
    expected = list(
        Message.objects.filter(text__startswith="refund")
        .order_by("-sent_at")
        .values_list("id", flat=True)
    )
    assert seen == expected and len(seen) == 60


def test_it_filters_like_the_page(client, brand, customer, agent, tweet, read_token):
    other = make_thread(brand, customer, 300, claimed_by=agent, status="claimed")
    say(other, "charger again", 300)
    assert found(client, read_token, q="charger", status="claimed") == [("message", other.id)]
    today = timezone.now().date()
    assert found(client, read_token, q="charger", until=str(today - timedelta(days=2))) == []


@pytest.mark.parametrize(
    "query",
    ["a" * 5000, "🙂🙂🙂", "!!! ???", ""],
    ids=["5000 characters", "emoji alone", "punctuation alone", "nothing at all"],
)
def test_unsearchable_input_is_a_400_problem(client, tweet, read_token, query):
    response = client.get("/api/v1/search", {"q": query}, **bearer(read_token))
    assert response.status_code == 400
    assert problem(response)["detail"]


@pytest.mark.parametrize(
    "query",
    ['charger OR "label', "-charger & | ! :* ()", "charger\x00", "'; DROP TABLE inbox_thread;--"],
)
def test_operators_and_stray_quotes_never_fail(client, tweet, read_token, query):
    response = client.get("/api/v1/search", {"q": query}, **bearer(read_token))
    assert response.status_code == 200
    assert isinstance(response.json()["hits"], list)
    assert Thread.objects.filter(id=tweet.id).exists()


def test_a_bad_cursor_date_or_status_is_a_problem(client, tweet, read_token):
    auth = bearer(read_token)
    bad_cursor = client.get("/api/v1/search", {"q": "charger", "after": "nope"}, **auth)
    assert bad_cursor.status_code == 400
    problem(bad_cursor)
    backwards = client.get(
        "/api/v1/search", {"q": "x", "since": "2026-02-02", "until": "2026-01-01"}, **auth
    )
    assert backwards.status_code == 400
    problem(backwards)
    status = client.get("/api/v1/search", {"q": "x", "status": "lost"}, **auth)
    assert status.status_code == 400
    assert problem(status)["errors"] == [
        {"loc": ["query", "status"], "msg": "There is no status “lost” to search by."}
    ]


def test_it_answers_401_without_a_token(client, tweet):
    response = client.get("/api/v1/search", {"q": "charger"})
    assert response.status_code == 401
    problem(response)


def test_it_is_in_the_openapi_schema(client):
    assert "/api/v1/search" in client.get("/api/v1/openapi.json").json()["paths"]


def test_a_search_is_a_fixed_number_of_queries(
    client, agent, tweet, read_token, django_assert_max_num_queries
):
    for n in range(10):
        Note.objects.create(thread=tweet, agent=agent, text=f"charger note {n}")
    # token, the customers shown, and per kind its rows; a message's and a reply's walk
    # (inbox.search.find, rule 4a) read its floor first, and fall back to the text index
    # when the walk finds less than a page; the search's transaction (a savepoint and its
    # release inside the test's) sets rule 7's setting, and rule 6 asks for PostgreSQL's
    # estimate once: at most 12, however many rows match
    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/search", {"q": "charger"}, **bearer(read_token))
    assert len(response.json()["hits"]) == 11
