"""Admins manage the brand's sources in the app: X's query syntax and X's budgets are
checked before anything is saved, and every change is an Event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from inbox.models import Event, Source

FIVE = timedelta(seconds=5)
QUERY = {"kind": "search", "interval_seconds": "15", "active": "on"}


@pytest.fixture
def admin_client(client, admin_agent):
    client.force_login(admin_agent.user)
    return client


def test_it_adds_a_listening_query_with_an_event(admin_client, brand, admin_agent):
    response = admin_client.post("/admin/sources/new/", QUERY | {"query": ' "acme" -is:retweet '})
    assert response.status_code == 302
    source = Source.objects.get(brand=brand, kind="search")
    assert (source.query, source.poll_interval) == ('"acme" -is:retweet', timedelta(seconds=15))
    event = Event.objects.get(verb="source_added")
    assert (event.actor, event.detail["query"]) == (admin_agent, '"acme" -is:retweet')
    page = admin_client.get("/admin/sources/").content.decode()
    assert "&quot;acme&quot; -is:retweet" in page  # escaped, as all typed text
    assert "900 ÷ 15 s = 60" in page


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ('"acme', "Unmatched quotation mark"),
        ("(acme", "Unbalanced parentheses"),
        ("acme colour:red", "Reference to invalid operator &#x27;colour&#x27;"),
        ("a" * 600, "Query is longer than 512 characters"),
    ],
)
def test_a_query_x_would_refuse_is_not_saved(admin_client, brand, query, reason):
    response = admin_client.post("/admin/sources/new/", QUERY | {"query": query})
    assert response.status_code == 200
    page = response.content.decode()
    assert "There were errors processing your request: " + reason in page
    assert query[:100] in page  # what they typed is kept
    assert not Source.objects.filter(brand=brand, kind="search").exists()
    assert not Event.objects.filter(verb="source_added").exists()


def test_a_set_of_sources_over_the_budget_is_refused(admin_client, brand):
    for n in range(7):
        Source.objects.create(brand=brand, kind="search", query=f"q{n}")  # 7 x 60 = 420
    response = admin_client.post("/admin/sources/new/", QUERY | {"query": "acme"})
    page = response.content.decode()
    assert "Not saved." in page
    assert "480 requests per 15 minutes, over X&#x27;s limit of 450" in page
    assert not Source.objects.filter(query="acme").exists()
    # Polling every 30 s costs 30: it fits.
    response = admin_client.post(
        "/admin/sources/new/", QUERY | {"query": "acme", "interval_seconds": "30"}
    )
    assert response.status_code == 302
    assert Source.objects.get(query="acme").poll_interval == timedelta(seconds=30)


def test_the_budget_preview_shows_the_arithmetic_as_typed(admin_client, brand, source):
    response = admin_client.get(
        "/admin/sources/budget/",
        {"kind": "search", "query": "acme", "interval_seconds": "5", "active": "on"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert "<html" not in page
    assert "Listening query: acme: 900 ÷ 5 s = 180" in page
    assert "Mentions: 900 ÷ 15 s = 60" in page
    response = admin_client.get(
        "/admin/sources/budget/",
        {"kind": "search", "query": "acme", "interval_seconds": "1", "active": "on"},
    )
    assert "Listening query: acme" not in response.content.decode()  # 1 s: below the minimum
    for n in (1, 2):
        Source.objects.create(brand=brand, kind="search", query=f"q{n}", poll_interval=FIVE)
    many = admin_client.get(
        "/admin/sources/budget/",
        {"kind": "search", "query": "acme", "interval_seconds": "5", "active": "on"},
    ).content.decode()
    assert "over by 90: cannot fit" in many  # 3 x 180 recent-search requests against 450


def test_editing_a_query_starts_a_fresh_cursor_and_unparks_it(admin_client, brand):
    source = Source.objects.create(
        brand=brand, kind="search", query="acme", since_id=77, last_error="Permanent: 400"
    )
    response = admin_client.post(
        f"/admin/sources/{source.id}/", QUERY | {"query": "acme lang:en", "interval_seconds": "20"}
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.query, source.since_id, source.last_error) == ("acme lang:en", None, "")
    event = Event.objects.get(verb="source_changed")
    assert event.detail["query"] == ["acme", "acme lang:en"]
    assert event.detail["interval_seconds"] == [15, 20]


def test_turning_a_source_off_is_a_change_too(admin_client, brand, source):
    off = {"kind": "mentions", "interval_seconds": "15"}  # "active" unticked
    admin_client.post(f"/admin/sources/{source.id}/", off)
    source.refresh_from_db()
    assert source.active is False
    assert Event.objects.get(verb="source_changed").detail["active"] == [True, False]


def test_a_duplicate_is_refused(admin_client, brand, source):
    response = admin_client.post(
        "/admin/sources/new/", {"kind": "mentions", "interval_seconds": "15", "active": "on"}
    )
    assert "The brand already has Mentions." in response.content.decode()
    assert Source.objects.filter(brand=brand).count() == 1


def test_another_brands_source_is_a_404(admin_client, db):
    from inbox.models import Brand

    other = Brand.objects.create(name="Other", handle="other", x_user_id=5)
    theirs = Source.objects.create(brand=other, kind="mentions")
    assert admin_client.get(f"/admin/sources/{theirs.id}/").status_code == 404
    response = admin_client.post(f"/admin/sources/{theirs.id}/", {"kind": "mentions"})
    assert response.status_code == 404


def test_the_csrf_token_is_required(csrf_client, admin_agent, brand):
    csrf_client.force_login(admin_agent.user)
    response = csrf_client.post("/admin/sources/new/", QUERY | {"query": "acme"})
    assert response.status_code == 403
    assert not Source.objects.filter(brand=brand).exists()
