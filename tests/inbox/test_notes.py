"""Internal notes: for colleagues, in the thread's timeline, an Event; never posted."""

from __future__ import annotations

import pytest

from inbox import actions
from inbox.models import Brand, Event, Note, Reply
from tests.helpers import make_agent


def test_it_adds_a_note_with_an_event_and_posts_nothing(
    client, agent, second_agent, thread, django_capture_on_commit_callbacks
):
    actions.do_claim(thread.id, agent=agent)
    client.force_login(second_agent.user)  # anyone may note, the holder or not
    with django_capture_on_commit_callbacks(execute=False) as scheduled:
        response = client.post(f"/t/{thread.id}/note/", {"note-text": "  VIP: <b>refund</b> ok  "})
    assert response.status_code == 302
    note = Note.objects.get()
    assert (note.thread, note.agent, note.text) == (thread, second_agent, "VIP: <b>refund</b> ok")
    event = Event.objects.get(verb="noted")
    assert (event.actor, event.thread, event.detail) == (second_agent, thread, {"note": note.id})
    assert not Reply.objects.exists()
    assert all("post_reply" not in repr(callback) for callback in scheduled)
    thread.refresh_from_db()
    assert (thread.status, thread.claimed_by) == ("claimed", agent)


def test_it_shows_notes_in_the_timeline_escaped_and_marked_internal(client, agent, thread):
    actions.do_add_note(thread.id, agent=agent, text="call <script>x</script> back")
    client.force_login(agent.user)
    body = client.get(f"/t/{thread.id}/").content.decode()
    assert "call &lt;script&gt;x&lt;/script&gt; back" in body
    assert "Internal note · Alice" in body
    assert body.index("where is my order?") < body.index("call &lt;script&gt;")


def test_it_refuses_an_empty_note_with_a_message(client, agent, thread):
    client.force_login(agent.user)
    response = client.post(f"/t/{thread.id}/note/", {"note-text": "   "}, follow=True)
    assert "The note is empty." in response.content.decode()
    assert not Note.objects.exists()
    with pytest.raises(actions.ActionError, match="The note is empty."):
        actions.do_add_note(thread.id, agent=agent, text=" \n ")


def test_it_keeps_notes_off_another_brands_threads(client, thread):
    from inbox.models import Brand
    from tests.helpers import make_agent

    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=9_000_002)
    stranger = make_agent(other, "olga")
    client.force_login(stranger.user)
    assert client.post(f"/t/{thread.id}/note/", {"note-text": "hi"}).status_code == 404
    assert not Note.objects.exists()


def test_it_tells_colleagues_a_note_mentions_by_handle_or_credit(
    client, brand, agent, second_agent, supervisor, deactivated, thread
):
    other_brand = Brand.objects.create(name="Other", handle="other", x_user_id=9_000_002)
    make_agent(other_brand, "olga")  # her handle olga_x: another brand, never mentioned
    text = "@KIM asked twice; @bob_x can you check? cc @SU, not @dora_x nor @olga_x, me@al_x"
    note = actions.do_add_note(thread.id, agent=agent, text=text)
    assert list(note.mentions.order_by("id")) == [second_agent, supervisor]
    event = Event.objects.get(verb="noted")
    assert event.detail == {"note": note.id, "mentions": [second_agent.id, supervisor.id]}

    client.force_login(second_agent.user)
    page = client.get("/team/me/").content.decode()
    assert f'data-note-id="{note.id}"' in page and "@kim" in page
    client.force_login(agent.user)  # the author is not told of their own note
    assert f'data-note-id="{note.id}"' not in client.get("/team/me/").content.decode()


def test_a_mention_in_a_note_is_escaped_on_the_profile(client, agent, second_agent, thread):
    actions.do_add_note(thread.id, agent=agent, text='@bob_x <img src=x onerror="alert(1)">')
    client.force_login(second_agent.user)
    page = client.get("/team/me/").content.decode()
    assert "&lt;img src=x" in page and "<img src=x" not in page
