"""Several brands (issue 16): /team/<id>/brands/ (admins give or take a brand they
administer; supervisors look) and the top bar's brand switcher (its list cached per
employee, forgotten when their memberships change; the active brand on the Agent row)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from agents import brands
from agents.models import Agent, Membership
from inbox.models import Brand, Event
from tests.helpers import make_agent


@pytest.fixture
def eu(brand: Brand) -> Brand:
    return Brand.objects.create(name="Acme EU", handle="acme_eu", x_user_id=9_000_002)


@pytest.fixture
def other(brand: Brand) -> Brand:
    """A brand the admin does not administer."""
    return Brand.objects.create(name="Other Co", handle="other_co", x_user_id=9_000_003)


@pytest.fixture
def eu_admin(admin_agent: Agent, eu: Brand) -> Agent:
    """The brand's admin, who administers @acme_eu too."""
    Membership.objects.create(agent=admin_agent, brand=admin_agent.brand)
    Membership.objects.create(agent=admin_agent, brand=eu)
    return admin_agent


def logged_in(agent: Agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def brand_ids(agent: Agent) -> set[int]:
    return set(Membership.objects.filter(agent=agent).values_list("brand_id", flat=True))


# --- /team/<id>/brands/ ----------------------------------------------------------------------


def test_an_admin_gives_and_takes_a_brand_they_administer(eu_admin, agent, eu, brand):
    client = logged_in(eu_admin)
    page = client.get(f"/team/{agent.id}/brands/").content.decode()
    assert "Give @acme_eu" in page
    response = client.post(f"/team/{agent.id}/brands/", {"brand": eu.id, "do": "give"})
    assert response.status_code == 302
    assert brand_ids(agent) == {brand.id, eu.id}
    given = Event.objects.get(verb="agent_brand_given")
    assert (given.brand_id, given.actor_id, given.detail["agent"]) == (eu.id, eu_admin.id, agent.id)
    assert "Take @acme_eu" in client.get(f"/team/{agent.id}/brands/").content.decode()

    client.post(f"/team/{agent.id}/brands/", {"brand": eu.id, "do": "take"})
    assert brand_ids(agent) == {brand.id}
    taken = Event.objects.get(verb="agent_brand_taken")
    assert (taken.brand_id, taken.actor_id, taken.detail["agent"]) == (eu.id, eu_admin.id, agent.id)
    agent.refresh_from_db()
    assert agent.brand_id == brand.id


def test_an_admin_cannot_give_a_brand_they_do_not_administer(eu_admin, agent, other):
    client = logged_in(eu_admin)
    response = client.post(
        f"/team/{agent.id}/brands/", {"brand": other.id, "do": "give"}, follow=True
    )
    assert "only give or take a brand you administer" in response.content.decode()
    assert not Membership.objects.filter(agent=agent).exists()
    assert not Event.objects.filter(verb="agent_brand_given").exists()
    assert "@other_co" not in client.get(f"/team/{agent.id}/brands/").content.decode()


def test_the_brand_they_work_in_now_is_not_taken(eu_admin, agent, eu, brand):
    client = logged_in(eu_admin)
    client.post(f"/team/{agent.id}/brands/", {"brand": eu.id, "do": "give"})
    response = client.post(
        f"/team/{agent.id}/brands/", {"brand": brand.id, "do": "take"}, follow=True
    )
    assert "works in @acmecares right now" in response.content.decode()
    assert brand_ids(agent) == {brand.id, eu.id}
    assert not Event.objects.filter(verb="agent_brand_taken").exists()


def test_supervisors_look_but_do_not_give(supervisor, agent, eu, brand):
    Membership.objects.create(agent=agent, brand=eu)
    client = logged_in(supervisor)
    page = client.get(f"/team/{agent.id}/brands/").content.decode()
    assert "@acme_eu" in page and "Take @" not in page and "Give @" not in page
    taking = client.post(f"/team/{agent.id}/brands/", {"brand": eu.id, "do": "take"})
    assert taking.status_code == 403
    assert brand_ids(agent) == {eu.id}


def test_agents_may_not_see_or_change_anyones_brands(agent, second_agent, eu):
    client = logged_in(agent)
    assert client.get(f"/team/{second_agent.id}/brands/").status_code == 403
    response = client.post(f"/team/{agent.id}/brands/", {"brand": eu.id, "do": "give"})
    assert response.status_code == 403
    assert not Membership.objects.exists()


def test_another_brands_employee_is_a_404(eu_admin, other):
    stranger = make_agent(other, "zed")
    assert logged_in(eu_admin).get(f"/team/{stranger.id}/brands/").status_code == 404


def test_giving_and_taking_need_the_csrf_token(csrf_client, eu_admin, agent, eu):
    csrf_client.force_login(eu_admin.user)
    url = f"/team/{agent.id}/brands/"
    assert csrf_client.post(url, {"brand": eu.id, "do": "give"}).status_code == 403
    assert not Membership.objects.filter(agent=agent).exists()
    Membership.objects.create(agent=agent, brand=eu)
    assert csrf_client.post(url, {"brand": eu.id, "do": "take"}).status_code == 403
    assert brand_ids(agent) == {eu.id}


# --- the top bar's switcher -------------------------------------------------------------------


def test_the_switcher_shows_only_for_an_employee_of_several_brands(
    agent, eu_admin, eu, django_capture_on_commit_callbacks
):
    client = logged_in(agent)
    assert 'id="brand-switch"' not in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        logged_in(eu_admin).post(f"/team/{agent.id}/brands/", {"brand": eu.id, "do": "give"})
    page = client.get("/").content.decode()  # given: shown at their next page
    assert 'id="brand-switch"' in page
    assert f'<option value="{agent.brand_id}" selected>@acmecares</option>' in page
    assert f'<option value="{eu.id}">@acme_eu</option>' in page
    with django_capture_on_commit_callbacks(execute=True):
        logged_in(eu_admin).post(f"/team/{agent.id}/brands/", {"brand": eu.id, "do": "take"})
    assert 'id="brand-switch"' not in client.get("/").content.decode()  # taken: gone


def test_the_brand_list_is_cached_per_employee_and_forgotten_on_a_change(
    agent, second_agent, eu, django_assert_num_queries, django_capture_on_commit_callbacks
):
    Membership.objects.create(agent=agent, brand=eu)
    first = brands.choices(agent)
    assert [c.handle for c in first] == ["acmecares", "acme_eu"]
    with django_assert_num_queries(0):
        assert brands.choices(agent) == first  # a page costs a cache read, no query
    assert [c.handle for c in brands.choices(second_agent)] == ["acmecares"]  # per employee
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.filter(agent=agent, brand=eu).delete()
    assert cache.get(f"agents:brands:{agent.id}") is None
    assert [c.handle for c in brands.choices(agent)] == ["acmecares"]
    assert [c.handle for c in brands.choices(second_agent)] == ["acmecares"]


def test_switching_keeps_the_active_brand_on_the_employee(agent, eu, brand):
    Membership.objects.create(agent=agent, brand=eu)
    phone, laptop = logged_in(agent), logged_in(agent)
    response = phone.post("/team/me/brand/", {"brand": eu.id})
    assert response.status_code == 302 and response["Location"] == "/"
    agent.refresh_from_db()
    assert agent.brand_id == eu.id
    assert Event.objects.filter(brand=eu, verb="agent_switched_brand").count() == 1
    # Another session of theirs works in the same brand: it is the row's, not the session's.
    page = laptop.get("/").content.decode()
    assert f'<option value="{eu.id}" selected>@acme_eu</option>' in page
    # And they can come back: the brand left stays one of theirs.
    assert laptop.post("/team/me/brand/", {"brand": brand.id}).status_code == 302
    agent.refresh_from_db()
    assert agent.brand_id == brand.id


def test_a_forged_switch_to_a_brand_not_theirs_is_refused_plainly(agent, eu, other):
    Membership.objects.create(agent=agent, brand=eu)
    client = logged_in(agent)
    response = client.post("/team/me/brand/", {"brand": other.id}, follow=True)
    assert "You do not work for that brand, so you were not switched to it." in (
        response.content.decode()
    )
    agent.refresh_from_db()
    assert agent.brand_id != other.id
    assert not Event.objects.filter(verb="agent_switched_brand").exists()


def test_a_stale_cached_list_never_lets_anyone_switch(agent, eu):
    Membership.objects.create(agent=agent, brand=eu)
    client = logged_in(agent)
    assert f'value="{eu.id}"' in client.get("/").content.decode()  # cached with @acme_eu
    Membership.objects.filter(agent=agent, brand=eu).delete()
    cache.set(f"agents:brands:{agent.id}", [(agent.brand_id, "acmecares"), (eu.id, "acme_eu")])
    response = client.post("/team/me/brand/", {"brand": eu.id}, follow=True)
    assert "You do not work for that brand" in response.content.decode()
    agent.refresh_from_db()
    assert agent.brand_id != eu.id


def test_switching_needs_the_csrf_token(csrf_client, agent, eu):
    Membership.objects.create(agent=agent, brand=eu)
    csrf_client.force_login(agent.user)
    assert csrf_client.post("/team/me/brand/", {"brand": eu.id}).status_code == 403
    agent.refresh_from_db()
    assert agent.brand_id != eu.id


def test_another_devices_live_queue_is_not_told_unchanged_after_a_switch(
    agent, eu, django_capture_on_commit_callbacks
):
    import re

    from django.contrib.auth import user_logged_in
    from django.test import RequestFactory

    Membership.objects.create(agent=agent, brand=eu)
    laptop, phone = logged_in(agent), logged_in(agent)
    for client in (laptop, phone):  # as a real login notes each session (agents.sessions)
        request = RequestFactory().get("/")
        request.session = client.session
        user_logged_in.send(sender=Agent, request=request, user=agent.user)
    version = re.search(r"v=([\d.]+)", laptop.get("/").content.decode()).group(1)
    assert laptop.get(f"/?v={version}", HTTP_HX_REQUEST="true").status_code == 204
    with django_capture_on_commit_callbacks(execute=True):
        phone.post("/team/me/brand/", {"brand": eu.id})
    refreshed = laptop.get(f"/?v={version}", HTTP_HX_REQUEST="true")
    assert refreshed.status_code == 200  # the queue of @acme_eu, not "unchanged"
    assert "<html" not in refreshed.content.decode()
