"""The thread page's kept parts (issue 14: its outbox banner, base.html's top-bar links),
and its CSRF token put in after the render (inbox.live.fragments.render_personal): the
page equals one rendered with nothing kept, after each change of what those parts show."""

from __future__ import annotations

import re

import pytest

from agents.models import Role
from inbox import actions
from inbox.live import fragments, version
from inbox.templatetags import kept

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")([A-Za-z0-9]+)"')
CLIENT_TOKEN = re.compile(r'name="client_token" value="[0-9a-f-]+"')
ESTIMATE = re.compile(r'data-estimate="[^"]*"')  # a queued reply's "goes out" instant, from now


def _page(client, thread) -> str:
    response = client.get(f"/t/{thread.id}/")
    assert response.status_code == 200
    return response.content.decode()


def _same(html: str) -> str:
    """The page without what is drawn anew for each render (CSRF masks, the reply form's
    one-use token, a queued reply's estimate)."""
    html = ESTIMATE.sub("estimate", CLIENT_TOKEN.sub("client_token", html))
    return TOKEN.sub(r"\1token", html)


def _cold(client, thread) -> str:
    kept.forget()
    return _page(client, thread)


def test_the_page_carries_one_real_csrf_token_that_posts(csrf_client, agent, thread):
    actions.do_claim(thread.id, agent=agent)
    csrf_client.force_login(agent.user)
    html = _page(csrf_client, thread)
    tokens = {m.group(2) for m in TOKEN.finditer(html)}
    assert len(tokens) == 1
    assert fragments._CSRF not in html
    response = csrf_client.post(
        f"/t/{thread.id}/release/", {"csrfmiddlewaretoken": tokens.pop()}, follow=True
    )
    assert response.status_code == 200
    thread.refresh_from_db()
    assert thread.claimed_by is None


def test_a_kept_page_equals_a_cold_one_for_each_employee(
    client, agent, supervisor, admin_agent, thread
):
    actions.do_claim(thread.id, agent=agent)
    for person in (agent, supervisor, admin_agent):
        client.force_login(person.user)
        warm = [_page(client, thread) for _ in range(2)][-1]
        assert _same(warm) == _same(_cold(client, thread)), person.role


def test_the_top_bar_links_follow_a_change_of_role(client, supervisor, thread):
    client.force_login(supervisor.user)
    before = _page(client, thread)
    assert 'href="/sup/"' in before  # the Dashboard
    supervisor.role = Role.AGENT
    supervisor.save(update_fields=["role"])
    after = _page(client, thread)
    assert 'href="/sup/"' not in after
    assert _same(after) == _same(_cold(client, thread))


def test_the_outbox_banner_follows_the_outbox(client, agent, thread):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    before = _page(client, thread)
    assert '<span data-figure="waiting">0</span>' in before
    actions.do_send_reply(thread.id, agent=agent, text="@kim on its way")
    version.bump(thread.brand_id, [thread.id])  # as its commit does (the test's is not one)
    after = _page(client, thread)
    assert '<span data-figure="waiting">1</span>' in after
    assert _same(after) == _same(_cold(client, thread))
