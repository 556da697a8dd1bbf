"""Notifications in the top bar (issue 21: inbox.notifications, inbox.live.notices,
inbox.views.notices): who is told what, only them, and marking read."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from inbox import actions, notifications
from inbox.live import notices
from inbox.models import Brand, Customer, Notification, Reply
from tests.helpers import make_agent, make_thread


def _reply(thread, agent, *, channel="tweet") -> Reply:
    return Reply.objects.create(
        thread=thread, agent=agent, channel=channel, text="hi", body="hi ^AL", credit="^AL"
    )


def test_a_note_that_mentions_a_colleague_notifies_them_not_its_author(agent, second_agent, thread):
    actions.do_add_note(thread.id, agent=agent, text=f"@{second_agent.credit_code} can you look?")
    [found] = Notification.objects.all()
    assert (found.agent, found.kind, found.thread) == (second_agent, "mentioned", thread)
    assert agent.name in found.text and "@kim" in found.text
    assert notices.unread_count(agent.id) == 0


def test_a_note_without_a_mention_notifies_no_one(agent, thread):
    actions.do_add_note(thread.id, agent=agent, text="Customer called twice.")
    assert not Notification.objects.exists()


def test_a_reassigned_thread_notifies_its_new_holder(supervisor, agent, thread):
    actions.do_reassign(thread.id, to=agent, actor=supervisor)
    [found] = Notification.objects.filter(agent=agent)
    assert found.kind == "reassigned" and supervisor.name in found.text
    actions.do_reassign(thread.id, to=supervisor, actor=supervisor)  # to themselves: nothing
    assert not Notification.objects.filter(agent=supervisor).exists()


def test_a_refused_reply_tells_its_author_what_to_do(agent, thread):
    actions.do_claim(thread.id, agent=agent)
    reply = _reply(thread, agent)
    with transaction.atomic():
        actions.reply_refused(reply, "403 Forbidden: duplicate content")
    [found] = Notification.objects.all()
    assert (found.agent, found.kind) == (agent, "reply_failed")
    assert "duplicate content" in found.text and "reply box" in found.text


def test_a_refused_dm_is_told_as_such(agent, brand, customer):
    dm = make_thread(brand, customer, 700, channel="dm")
    with transaction.atomic():
        actions.reply_refused(
            _reply(dm, agent, channel="dm"), "You cannot send messages to this user"
        )
    [found] = Notification.objects.all()
    assert found.kind == "dm_refused" and found.text.startswith("X refused your DM to @kim")


def test_a_deactivated_employee_is_not_notified(deactivated, thread):
    assert notifications.notify([deactivated], "mentioned", thread=thread, text="x") == 0


def test_the_badge_counts_only_the_employees_own_unread(agent, second_agent, thread):
    notifications.notify([agent, agent], "mentioned", thread=thread, text="one")
    notifications.notify([second_agent], "reassigned", thread=thread, text="theirs")
    found = json.loads(notices.badge(agent.id))
    assert found["unread"] == 2 and found["newest"]["text"] == "one"
    assert found["newest"]["url"] == f"/t/{thread.id}/"
    assert json.loads(notices.badge(second_agent.id))["unread"] == 1
    notifications.mark_read(agent)
    assert json.loads(notices.badge(agent.id)) == {"unread": 0}
    assert json.loads(notices.badge(second_agent.id))["unread"] == 1


# --- the pages -------------------------------------------------------------------------


def test_the_top_bar_shows_the_unread_count(client, agent, thread):
    notifications.notify([agent], "mentioned", thread=thread, text="Bob mentioned you.")
    client.force_login(agent.user)
    page = client.get("/proposals/").content.decode()
    assert 'id="notices-count"' in page and "<span data-count>1</span>" in page
    listed = client.get("/notifications/").content.decode()
    assert "Bob mentioned you." in listed and "1 unread" in listed


def test_the_list_and_the_badge_show_no_one_elses(client, agent, second_agent, thread):
    notifications.notify([second_agent], "mentioned", thread=thread, text="For Bob only.")
    client.force_login(agent.user)
    assert "For Bob only." not in client.get("/notifications/").content.decode()
    assert json.loads(client.get("/notifications/badge/").content) == {"unread": 0}


def test_opening_one_marks_it_read_and_goes_to_its_thread(client, agent, thread):
    notifications.notify([agent], "mentioned", thread=thread, text="Look.")
    found = Notification.objects.get()
    client.force_login(agent.user)
    response = client.post("/notifications/read/", {"id": found.id})
    assert response.status_code == 302 and response["Location"] == f"/t/{thread.id}/"
    found.refresh_from_db()
    assert found.read_at is not None


def test_another_employees_notification_cannot_be_marked(client, agent, second_agent, thread):
    notifications.notify([second_agent], "mentioned", thread=thread, text="Bob's.")
    found = Notification.objects.get()
    client.force_login(agent.user)
    response = client.post("/notifications/read/", {"id": found.id}, follow=True)
    assert "not yours" in response.content.decode()
    client.post("/notifications/read/")  # "mark all": all of *mine*
    found.refresh_from_db()
    assert found.read_at is None


def test_mark_all_read(client, agent, thread):
    notifications.notify([agent, agent], "mentioned", thread=thread, text="Look.")
    client.force_login(agent.user)
    response = client.post("/notifications/read/", follow=True)
    assert "Marked 2 notifications read." in response.content.decode()
    assert notices.unread_count(agent.id) == 0


def test_marking_read_needs_the_csrf_token(csrf_client, agent, thread):
    notifications.notify([agent], "mentioned", thread=thread, text="Look.")
    csrf_client.force_login(agent.user)
    assert csrf_client.post("/notifications/read/").status_code == 403
    assert notices.unread_count(agent.id) == 1


@pytest.mark.parametrize("raw", ["abc", "-1", "99999999"])
def test_a_bad_id_is_told_plainly(client, agent, raw):
    client.force_login(agent.user)
    response = client.post("/notifications/read/", {"id": raw}, follow=True)
    assert response.status_code == 200 and "not yours" in response.content.decode()


def test_another_brands_employee_is_never_notified_by_a_mention(agent, thread):
    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=9_000_002)
    stranger = make_agent(other, "zed")
    Customer.objects.create(brand=other, x_user_id=43, handle="lee")
    actions.do_add_note(
        thread.id, agent=agent, text=f"@{stranger.credit_code} @{stranger.x_handle}"
    )
    assert not Notification.objects.exists()


def test_the_notices_stream_is_for_employees(client, agent):
    """Under WSGI (the tests' server) an allowed stream answers 204 (the page polls); a
    visitor who is not an employee is refused."""
    assert client.get("/push/events/?view=notices&notices=1").status_code == 403
    client.force_login(agent.user)
    assert client.get("/push/events/?view=notices&notices=1").status_code == 204
