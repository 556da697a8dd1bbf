"""The customer panel beside a thread: profile, tags, past threads with replies."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox import actions, customers
from inbox.models import Customer, Event, Reply
from tests.helpers import login, make_agent, make_thread
from tests.inbox.test_races import run_together


@pytest.fixture
def evil(brand) -> Customer:
    return Customer.objects.create(
        brand=brand,
        x_user_id=77,
        handle="mallory",
        name="<script>alert(1)</script>",
        description="bio <img src=x onerror=alert(2)>",
        followers_count=12345,
        verified=True,
        tags=["vip"],
    )


def past_threads(brand, customer, agent, n: int, start: int = 100) -> list:
    threads = []
    for i in range(n):
        thread = make_thread(brand, customer, start + i, preview=f"question {i}", status="answered")
        Reply.objects.create(
            thread=thread,
            agent=agent,
            text=f"@x answer {i}",
            credit=" ^AL",
            body=f"@x answer {i} ^AL",
            status="posted",
            posted_x_id=900_000 + start + i,
        )
        threads.append(thread)
    return threads


def test_it_shows_the_profile_escaped(client, agent, brand, evil):
    thread = make_thread(brand, evil, 1)
    login(client, agent.user)
    page = client.get(f"/t/{thread.id}/").content.decode()
    aside = page[page.index('<aside class="customer"') :]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in aside
    assert "<script>alert(1)" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in aside
    assert "@mallory" in aside and "12345 followers" in aside and "verified" in aside
    assert '<span class="tag">vip</span>' in aside


def test_it_lists_past_threads_with_replies_and_credits(client, agent, brand, evil, customer):
    current = make_thread(brand, evil, 1, preview="now")
    past_threads(brand, evil, agent, 2)
    make_thread(brand, customer, 5, preview="someone else's")
    login(client, agent.user)
    page = client.get(f"/t/{current.id}/").content.decode()
    aside = page[page.index('<aside class="customer"') :]
    assert "question 0" in aside and "question 1" in aside
    assert "@x answer 1 ^AL" in aside and "Alice" in aside
    assert "someone else" not in aside
    assert aside.index("question 1") < aside.index("question 0")  # newest first


def test_it_lists_the_customers_waiting_threads_apart_from_the_past(client, agent, brand, evil):
    current = make_thread(brand, evil, 1, preview="now")
    make_thread(brand, evil, 2, preview="another one still open")
    past_threads(brand, evil, agent, 1)
    login(client, agent.user)
    page = client.get(f"/t/{current.id}/").content.decode()
    waiting = page[page.index('id="open-threads"') : page.index('id="past-threads"')]
    past = page[page.index('id="past-threads"') :]
    assert "another one still open" in waiting and "question 0" not in waiting
    assert "question 0" in past and "another one still open" not in past
    assert "None before this one" not in page


def test_it_shows_the_latest_20_in_a_constant_number_of_queries(
    client, agent, brand, evil, django_assert_num_queries
):
    current = make_thread(brand, evil, 1)
    past_threads(brand, evil, agent, 2)
    login(client, agent.user)
    client.get(f"/t/{current.id}/")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        client.get(f"/t/{current.id}/")
    past_threads(brand, evil, agent, 30, start=200)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(f"/t/{current.id}/").content.decode()
    aside = page[page.index('<aside class="customer"') :]
    assert aside.count('class="replies"') == 20
    assert "The latest 20 are shown." in aside


def test_it_adds_a_tag_by_htmx_normalised_once(client, agent, brand, customer):
    thread = make_thread(brand, customer, 1)
    login(client, agent.user)
    response = client.post(
        f"/t/{thread.id}/tags/", {"tag": "  #Repeat Caller "}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert '<span class="tag">repeat-caller</span>' in html
    client.post(f"/t/{thread.id}/tags/", {"tag": "repeat-caller"}, HTTP_HX_REQUEST="true")
    customer.refresh_from_db()
    assert customer.tags == ["repeat-caller"]
    assert Event.objects.filter(thread=thread, verb="tagged", actor=agent).count() == 1


def test_it_explains_a_bad_tag_and_keeps_the_text(client, agent, brand, customer):
    thread = make_thread(brand, customer, 1)
    login(client, agent.user)
    html = client.post(
        f"/t/{thread.id}/tags/", {"tag": "<b>bad!</b>"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "A tag is 1 to 32 lowercase letters" in html
    assert 'value="&lt;b&gt;bad!&lt;/b&gt;"' in html
    customer.refresh_from_db()
    assert customer.tags == []


def test_it_removes_a_tag(client, agent, brand, customer):
    customer.tags = ["vip", "angry"]
    customer.save()
    thread = make_thread(brand, customer, 1)
    login(client, agent.user)
    response = client.post(f"/t/{thread.id}/tags/", {"remove": "vip"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.tags == ["angry"]
    assert Event.objects.filter(thread=thread, verb="untagged", detail={"tag": "vip"}).exists()


def test_it_caps_the_tags_of_a_customer(agent, brand, customer):
    customer.tags = [f"t{i}" for i in range(customers.TAGS_MAX)]
    customer.save()
    thread = make_thread(brand, customer, 1)
    with pytest.raises(actions.ActionError, match="at most"):
        customers.add_tag(thread, "one-more", agent=agent)


@pytest.mark.django_db(transaction=True)
def test_it_keeps_every_tag_when_agents_tag_at_once(brand, customer):
    thread = make_thread(brand, customer, 1)
    agents = [make_agent(brand, f"tagger{i}", code=f"T{i}") for i in range(8)]
    results = run_together(
        [
            lambda a=a, i=i: customers.add_tag(thread, f"tag{i}", agent=a)
            for i, a in enumerate(agents)
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)]
    customer.refresh_from_db()
    assert sorted(customer.tags) == sorted(f"tag{i}" for i in range(8))
