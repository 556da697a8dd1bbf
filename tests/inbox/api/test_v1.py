"""The REST API /api/v1/ with per-integration tokens (inbox.api, inbox.integrations.tokens)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import AgentState, Role
from inbox.integrations import tokens
from inbox.models import ApiToken, Brand, Customer, Event, Note, Reply, Thread, ThreadStatus
from tests.helpers import make_agent, make_thread


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def read_token(admin_agent) -> str:
    return tokens.create_token(actor=admin_agent, name="CRM", scope="read").token


@pytest.fixture
def write_token(admin_agent) -> str:
    return tokens.create_token(actor=admin_agent, name="Orders", scope="write").token


def problem(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == response.status_code
    return body


# --- tokens ---------------------------------------------------------------------------


def test_it_stores_only_the_tokens_digest(admin_agent):
    created = tokens.create_token(actor=admin_agent, name="CRM", scope="read")
    row = ApiToken.objects.get(id=created.row.id)
    assert created.token.startswith("twl_") and len(created.token) > 40
    assert created.token not in (row.digest, row.hint)
    assert row.digest == tokens.digest(created.token)
    assert Event.objects.filter(verb="api_token_created", actor=admin_agent).exists()


def test_it_refuses_a_token_from_a_supervisor(supervisor):
    from inbox.errors import ActionError

    with pytest.raises(ActionError):
        tokens.create_token(actor=supervisor, name="CRM", scope="read")


def test_it_answers_401_with_a_problem_without_a_token(client, thread):
    response = client.get("/api/v1/threads")
    assert response.status_code == 401
    assert "Bearer" in problem(response)["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_logged_in_session_is_no_credential(client, admin_agent, thread):
    client.force_login(admin_agent.user)
    assert client.get("/api/v1/threads").status_code == 401


def test_it_answers_401_to_a_wrong_token(client, read_token):
    response = client.get("/api/v1/threads", **bearer(read_token + "x"))
    assert response.status_code == 401
    assert problem(response)["detail"] == "Unknown API token."


def test_it_answers_401_to_a_revoked_token(client, admin_agent, read_token):
    assert client.get("/api/v1/threads", **bearer(read_token)).status_code == 200
    row = ApiToken.objects.get(digest=tokens.digest(read_token))
    tokens.revoke_token(row.id, actor=admin_agent)
    response = client.get("/api/v1/threads", **bearer(read_token))
    assert response.status_code == 401
    assert "revoked" in problem(response)["detail"]


def test_it_answers_401_to_an_expired_token(client, read_token):
    ApiToken.objects.filter(digest=tokens.digest(read_token)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/api/v1/threads", **bearer(read_token))
    assert response.status_code == 401
    assert "expired" in problem(response)["detail"]


def test_a_token_dies_with_its_creators_admin_role(client, admin_agent, read_token):
    admin_agent.state = AgentState.DEACTIVATED
    admin_agent.save(update_fields=["state"])
    response = client.get("/api/v1/threads", **bearer(read_token))
    assert response.status_code == 401
    assert "no longer" in problem(response)["detail"]


def test_it_throttles_per_token(client, settings, read_token, write_token):
    settings.THROTTLE_API_PER_MINUTE = 2
    assert client.get("/api/v1/events", **bearer(read_token)).status_code == 200
    assert client.get("/api/v1/events", **bearer(read_token)).status_code == 200
    response = client.get("/api/v1/events", **bearer(read_token))
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "requests in a minute" in problem(response)["detail"]
    # Another token has its own budget.
    assert client.get("/api/v1/events", **bearer(write_token)).status_code == 200


# --- reading ----------------------------------------------------------------------------


def test_it_lists_the_queue_with_keyset_pages(client, brand, customer, read_token):
    now = timezone.now()
    for n in range(60):
        make_thread(brand, customer, 1000 + n, priority=n % 3, waiting_since=now)
    seen = []
    after = ""
    while True:
        body = client.get("/api/v1/threads", {"after": after}, **bearer(read_token)).json()
        seen += [t["id"] for t in body["threads"]]
        if body["next"] is None:
            break
        after = body["next"]
    expected = list(
        Thread.objects.filter(brand=brand, status="open")
        .order_by("-priority", "waiting_since", "id")
        .values_list("id", flat=True)
    )
    assert seen == expected and len(seen) == 60


def test_it_filters_by_status_and_source(client, brand, customer, source, agent, read_token):
    make_thread(brand, customer, 1, source=source)
    make_thread(brand, customer, 2)
    claimed = make_thread(brand, customer, 3, status=ThreadStatus.CLAIMED, claimed_by=agent)
    by_source = client.get("/api/v1/threads", {"source": source.id}, **bearer(read_token)).json()
    assert [t["conversation_id"] for t in by_source["threads"]] == [1]
    body = client.get("/api/v1/threads", {"status": "claimed"}, **bearer(read_token)).json()
    assert [t["id"] for t in body["threads"]] == [claimed.id]
    assert body["threads"][0]["claimed_by"]["credit_code"] == agent.credit_code


def test_a_bad_filter_or_cursor_is_a_problem(client, read_token):
    response = client.get("/api/v1/threads", {"status": "lost"}, **bearer(read_token))
    assert response.status_code == 422
    assert problem(response)["errors"]
    response = client.get("/api/v1/threads", {"after": "nonsense"}, **bearer(read_token))
    assert response.status_code == 400
    problem(response)


def test_it_reads_a_thread_with_messages_replies_and_notes(
    client, thread, agent, read_token, django_assert_max_num_queries
):
    Reply.objects.create(thread=thread, agent=agent, text="<b>hi</b>", body="<b>hi</b> ^AL")
    Note.objects.create(thread=thread, agent=agent, text="VIP")
    with django_assert_max_num_queries(6):
        response = client.get(f"/api/v1/threads/{thread.id}", **bearer(read_token))
    body = response.json()
    assert body["id"] == thread.id
    assert [m["text"] for m in body["messages"]] == ["@acmecares where is my order?"]
    assert body["replies"][0]["text"] == "<b>hi</b>" and body["replies"][0]["status"] == "queued"
    assert body["notes"][0]["text"] == "VIP"
    assert body["customer"]["handle"] == "kim"


def test_it_reads_customers(client, brand, customer, read_token):
    other = Customer.objects.create(brand=brand, x_user_id=43, handle="lee", tags=["vip"])
    body = client.get("/api/v1/customers", {"tag": "vip"}, **bearer(read_token)).json()
    assert [c["id"] for c in body["customers"]] == [other.id]
    one = client.get(f"/api/v1/customers/{customer.id}", **bearer(read_token)).json()
    assert one["handle"] == "kim"


def test_it_reads_events_from_an_id_on(client, thread, agent, read_token):
    from inbox import actions

    first = client.get("/api/v1/events", **bearer(read_token)).json()["last_id"]
    actions.do_add_note(thread.id, agent=agent, text="one")
    actions.do_add_note(thread.id, agent=agent, text="two")
    body = client.get("/api/v1/events", {"after": first}, **bearer(read_token)).json()
    assert [e["verb"] for e in body["events"]] == ["noted", "noted"]
    again = client.get("/api/v1/events", {"after": body["last_id"]}, **bearer(read_token)).json()
    assert again["events"] == [] and again["last_id"] == body["last_id"]


# --- writing ----------------------------------------------------------------------------


def test_a_write_token_adds_a_note_by_its_creator(client, thread, admin_agent, write_token):
    response = client.post(
        f"/api/v1/threads/{thread.id}/notes",
        {"text": "Order #12 shipped"},
        content_type="application/json",
        **bearer(write_token),
    )
    assert response.status_code == 201
    note = Note.objects.get(thread=thread)
    assert note.text == "Order #12 shipped" and note.agent == admin_agent


def test_a_read_token_may_not_write(client, thread, read_token):
    response = client.post(
        f"/api/v1/threads/{thread.id}/notes",
        {"text": "x"},
        content_type="application/json",
        **bearer(read_token),
    )
    assert response.status_code == 403
    assert "write" in problem(response)["detail"]
    response = client.post(
        f"/api/v1/threads/{thread.id}/tags",
        {"tag": "vip"},
        content_type="application/json",
        **bearer(read_token),
    )
    assert response.status_code == 403
    assert not Note.objects.exists()
    thread.customer.refresh_from_db()
    assert thread.customer.tags == []


def test_an_empty_note_is_a_problem_and_records_nothing(client, thread, write_token):
    response = client.post(
        f"/api/v1/threads/{thread.id}/notes",
        {"text": "   "},
        content_type="application/json",
        **bearer(write_token),
    )
    assert response.status_code == 422
    problem(response)
    assert not Note.objects.exists()


def test_a_write_token_adds_and_removes_tags(client, thread, write_token):
    url = f"/api/v1/threads/{thread.id}/tags"
    response = client.post(
        url, {"tag": "VIP"}, content_type="application/json", **bearer(write_token)
    )
    assert response.json()["tags"] == ["vip"]
    response = client.delete(f"{url}/vip", **bearer(write_token))
    assert response.status_code == 200 and response.json()["tags"] == []
    thread.customer.refresh_from_db()
    assert thread.customer.tags == []
    bad = client.post(
        url, {"tag": "no spaces!"}, content_type="application/json", **bearer(write_token)
    )
    assert bad.status_code == 422


def test_nothing_in_the_api_posts_claims_answers_or_closes():
    from inbox.api.v1 import api

    paths = api.get_openapi_schema()["paths"]
    writes = sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
        if method != "get"
    )
    assert writes == [
        ("DELETE", "/api/v1/threads/{thread_id}/tags/{tag}"),
        ("POST", "/api/v1/threads/{thread_id}/notes"),
        ("POST", "/api/v1/threads/{thread_id}/tags"),
    ]


def test_the_openapi_schema_is_at_a_stable_url(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["version"] == "1"
    assert "/api/v1/threads" in schema["paths"]


# --- one brand never sees another's ------------------------------------------------------


@pytest.fixture
def other_brand_token(db) -> str:
    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=9_000_002)
    boss = make_agent(other, "olga", role=Role.ADMIN)
    return tokens.create_token(actor=boss, name="Theirs", scope="write").token


def test_another_brands_token_sees_none_of_this_brands_data(
    client, thread, customer, agent, other_brand_token
):
    from inbox import actions

    actions.do_add_note(thread.id, agent=agent, text="ours")
    auth = bearer(other_brand_token)
    assert client.get("/api/v1/threads", **auth).json()["threads"] == []
    assert client.get("/api/v1/customers", **auth).json()["customers"] == []
    assert [
        e for e in client.get("/api/v1/events", **auth).json()["events"] if e["verb"] == "noted"
    ] == []
    for path in (f"/api/v1/threads/{thread.id}", f"/api/v1/customers/{customer.id}"):
        response = client.get(path, **auth)
        assert response.status_code == 404, path
        problem(response)
    note = client.post(
        f"/api/v1/threads/{thread.id}/notes",
        {"text": "theirs"},
        content_type="application/json",
        **auth,
    )
    assert note.status_code == 404
    tag = client.post(
        f"/api/v1/threads/{thread.id}/tags", {"tag": "x"}, content_type="application/json", **auth
    )
    assert tag.status_code == 404
    assert client.delete(f"/api/v1/threads/{thread.id}/tags/x", **auth).status_code == 404
    assert Note.objects.filter(text="theirs").count() == 0
