"""Brand B's employees against brand A's objects: every URL that names an object answers
them 404, as it would a number that names nothing (a 403 would say the object exists).

The URLs come from the URL resolver, as in tests/test_access_matrix.py (whose STATUS rows
say which methods each URL takes and which roles may use it): a new URL with an object in
its path is tested here by itself; a new kind of URL argument fails
`test_every_url_argument_is_classified` until it is said here whether it names a brand's
object. URLs that name an object in their query string are listed in QUERY_OBJECTS.

Brand B's personas: an agent, a supervisor and an admin, each compared with brand A's
persona of the same role. Where that role may not use the URL at all, B's persona gets
the role's 403, before any object is looked up (the same answer for any number).
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from agents.models import Role
from tests import test_access_matrix as matrix
from tests.helpers import make_agent
from tests.test_access_matrix import PERSONAS, POST_DATA, STATUS, Route, all_routes

objects = matrix.objects  # the matrix's fixture: brand A and its objects

# URL arguments naming an object of a brand (each has a sample in the matrix's SAMPLES).
BRAND_OBJECTS = {"thread_id", "reply_id", "canned_id", "mute_id", "proposal_id", "tweet_id"}
BRAND_OBJECTS |= {"agent_id", "customer_id", "token_id", "webhook_id", "team_id", "rule_id"}
BRAND_OBJECTS |= {"source_id", "quarantine_id"}
# URL arguments naming nothing of a brand: password-reset links, the Django admin's routes
# (operators only: every employee is redirected to its login page).
NOT_BRAND_OBJECTS = {
    "uidb64",
    "token",
    "object_id",
    "content_type_id",
    "id",
    "app_label",
    "url",
    "language",
}
# The API's tag on a thread's customer (a word, not an object); a survey's signed link (a
# credential: a forged one is a 404 for everyone).
NOT_BRAND_OBJECTS |= {"tag", "link"}

# Brand B's persona -> brand A's persona of the same role (a column of the matrix).
OTHERS = {"other_agent": "agent", "other_supervisor": "supervisor", "other_admin": "admin_agent"}

# URLs naming brand A's object in the query string: (method, query). Not here: the queue's
# viewers poll (/viewers/?t=<ids>), a batch of its rows' threads, answered for the asker's
# brand only: other numbers are left out, never refused (test_queue_viewers_...).
QUERY_OBJECTS = {
    "push_events": [("GET", "view=thread&thread={thread}")],
}


def arguments(route: Route) -> set[str]:
    return set(re.findall(r"<(?:\w+:)?(\w+)>", route.route)) | set(
        re.findall(r"\(\?P<(\w+)>", route.route)
    )


def test_every_url_argument_is_classified():
    unknown = {
        f"{route.key} <{name}>"
        for route in all_routes()
        for name in arguments(route) - BRAND_OBJECTS - NOT_BRAND_OBJECTS
    }
    assert unknown == set(), "Say whether these name a brand's object (BRAND_OBJECTS)"


def cells() -> list[object]:
    out = []
    for route in all_routes():
        if not arguments(route) & BRAND_OBJECTS:
            continue
        for method, statuses in STATUS[route.key].items():
            for persona, theirs in OTHERS.items():
                status = statuses[PERSONAS.index(theirs)]
                # 405: the URL does not take the method. 401: the REST API, where a
                # session is no credential (brand B's tokens: tests/inbox/api/test_v1.py).
                if status in (405, 401):
                    continue
                expected = 403 if status == 403 else 404
                name = f"{route.key} {method} {persona}"
                out.append(pytest.param(route, method, persona, expected, id=name))
    return out


@pytest.fixture
def other(objects, db):
    """Brand B, its employees, and its own thread (so B is a working brand, not empty)."""
    from inbox.models import Brand, Customer
    from tests.helpers import make_thread

    brand_b = Brand.objects.create(name="Globex", handle="globexhelp", x_user_id=9_000_002)
    customer_b = Customer.objects.create(brand=brand_b, x_user_id=43, handle="lee", name="Lee")
    make_thread(brand_b, customer_b, 2)
    return {
        "other_agent": make_agent(brand_b, "gina"),
        "other_supervisor": make_agent(brand_b, "gus", role=Role.SUPERVISOR),
        "other_admin": make_agent(brand_b, "gail", role=Role.ADMIN),
    }


def _request(client: Client, method: str, path: str, data: dict[str, object]):
    return client.get(path) if method == "GET" else client.post(path, data)


@pytest.mark.parametrize(("route", "method", "persona", "status"), cells())
def test_another_brands_object(
    client: Client,
    objects,
    other,
    route: Route,
    method: str,
    persona: str,
    status: int,
):
    client.force_login(other[persona].user)
    path = route.path(objects)
    response = _request(client, method, path, POST_DATA.get(route.key, lambda _: {})(objects))
    assert response.status_code == status, f"{method} {path} as {persona} of brand B"


@pytest.mark.parametrize("persona", OTHERS)
@pytest.mark.parametrize(
    ("key", "method", "query"),
    [(key, method, query) for key, rows in QUERY_OBJECTS.items() for method, query in rows],
)
def test_another_brands_object_in_the_query(
    client: Client,
    objects,
    other,
    key: str,
    method: str,
    query: str,
    persona: str,
):
    from django.urls import reverse

    client.force_login(other[persona].user)
    path = reverse(key) + "?" + query.format(thread=objects["thread"].id)
    response = _request(client, method, path, {})
    assert response.status_code == 404, f"{method} {path} as {persona} of brand B"


def test_query_objects_name_urls():
    keys = {route.key for route in all_routes()}
    assert set(QUERY_OBJECTS) <= keys


def test_rejecting_another_brands_proposal_under_htmx(client: Client, objects, other):
    """The reject view said "say why" before looking the proposal up, then failed on its
    row under htmx (a 500); now another brand's proposal is a 404 first."""
    client.force_login(other["other_supervisor"].user)
    path = f"/sup/proposals/{objects['proposal'].id}/reject/"
    assert client.post(path, {}, headers={"HX-Request": "true"}).status_code == 404


def test_queue_viewers_poll_shows_nothing_of_another_brand(objects, other):
    alice, gina = Client(), Client()
    alice.force_login(objects["agent"].user)
    gina.force_login(other["other_agent"].user)
    thread_id = objects["thread"].id
    assert alice.get(f"/t/{thread_id}/viewers/").status_code == 200  # alice views it
    bob = Client()
    bob.force_login(objects["second_agent"].user)
    assert b"Alice" in bob.get(f"/viewers/?t={thread_id}").content  # the control
    response = gina.get(f"/viewers/?t={thread_id}")
    assert response.status_code == 200
    assert b"Alice" not in response.content
    assert str(thread_id).encode() not in response.content


def test_another_brands_ids_in_the_queue_filters_show_nothing_of_it(objects, other):
    """The queue's filters (?source=, ?team=), on the page and in its push stream's view
    (what /push/events/?view=queue renders), take the asker's brand's ids only: another
    brand's are left out (the asker's own queue, unfiltered), never read across brands."""
    from django.http import QueryDict

    from inbox.views import queue

    query = f"status=open&source={objects['source'].id}&team={objects['team'].id}"
    alice, gina = Client(), Client()
    alice.force_login(objects["agent"].user)
    gina.force_login(other["other_agent"].user)
    assert "@kim" in alice.get("/").content.decode()  # the control: brand A's own queue
    page = gina.get(f"/?{query}")
    assert page.status_code == 200
    assert "@lee" in page.content.decode() and "@kim" not in page.content.decode()
    agent_b = other["other_agent"]
    live = queue.live_view(agent_b, QueryDict(query)).render(agent_b)
    assert "@lee" in live and "@kim" not in live
    assert "Billing" not in live  # brand A's team is not offered as a filter either
