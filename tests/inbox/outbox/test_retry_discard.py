"""Reassign, release, retry and discard: supervisors can, agents cannot; each writes an
Event, and a retried reply goes back to the outbox after commit."""

from __future__ import annotations

import pytest
from django.db import transaction

from inbox import actions
from inbox.models import Event, Reply, ReplyStatus, ThreadStatus
from inbox.outbox import replies
from tests.helpers import broker_redis, login, make_agent, make_thread


def scheduled(task: str) -> list[list[object]]:
    """The arguments of each `task` message waiting in the broker (real Redis)."""
    import base64
    import json

    from django.conf import settings

    broker = broker_redis()
    queue = settings.CELERY_TASK_DEFAULT_QUEUE  # this run's own
    messages = [json.loads(raw) for raw in broker.lrange(queue, 0, -1)]
    return [
        json.loads(base64.b64decode(m["body"]))[0] for m in messages if m["headers"]["task"] == task
    ]


def verbs(thread) -> list[str]:
    return list(Event.objects.filter(thread=thread).order_by("id").values_list("verb", flat=True))


@pytest.fixture
def thread(brand, customer):
    return make_thread(brand, customer, 1)


@pytest.fixture
def held(thread, agent):
    actions.do_claim(thread.id, agent=agent)
    return thread


@pytest.fixture
def failed(held, agent):
    reply = actions.do_send_reply(held.id, agent=agent, text="@kim on its way")
    with transaction.atomic():
        replies.mark_failed(Reply.objects.select_for_update().get(pk=reply.pk), "X refused: 403")
    reply.refresh_from_db()
    return reply


# --- reassign ---


def test_it_lets_a_supervisor_reassign_a_claim(client, supervisor, held, second_agent):
    login(client, supervisor.user)
    response = client.post(f"/sup/t/{held.id}/reassign/", {"agent": second_agent.id})
    assert response.status_code == 302
    held.refresh_from_db()
    assert (held.status, held.claimed_by) == (ThreadStatus.CLAIMED, second_agent)
    event = Event.objects.get(thread=held, verb="reassigned")
    assert (event.actor, event.detail["to"]) == (supervisor, second_agent.id)


def test_it_refuses_an_agent_who_tries_to_reassign(client, agent, second_agent, held):
    login(client, second_agent.user)
    response = client.post(f"/sup/t/{held.id}/reassign/", {"agent": second_agent.id})
    assert response.status_code == 403
    held.refresh_from_db()
    assert held.claimed_by == agent
    assert "reassigned" not in verbs(held)


def test_it_refuses_to_reassign_to_another_brands_employee(client, supervisor, held, agent):
    from inbox.models import Brand

    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=5)
    stranger = make_agent(other, "zed")
    login(client, supervisor.user)
    client.post(f"/sup/t/{held.id}/reassign/", {"agent": stranger.id})
    held.refresh_from_db()
    assert held.claimed_by == agent


def test_the_action_itself_refuses_an_agent(held, agent, second_agent):
    with pytest.raises(actions.ActionError, match="Only supervisors"):
        actions.do_reassign(held.id, to=second_agent, actor=agent)


# --- release ---


def test_it_lets_a_supervisor_release_a_stuck_claim(client, supervisor, held, agent):
    login(client, supervisor.user)
    assert client.post(f"/sup/t/{held.id}/release/").status_code == 302
    held.refresh_from_db()
    assert (held.status, held.claimed_by) == (ThreadStatus.OPEN, None)
    event = Event.objects.get(thread=held, verb="released")
    assert (event.actor, event.detail["holder"]) == (supervisor, agent.id)


def test_it_refuses_an_agent_who_tries_to_release_anothers_claim(client, second_agent, held):
    login(client, second_agent.user)
    assert client.post(f"/sup/t/{held.id}/release/").status_code == 403
    held.refresh_from_db()
    assert held.status == ThreadStatus.CLAIMED


# --- retry and discard ---


def test_it_retries_a_failed_reply_and_posts_it_after_commit(
    client, supervisor, failed, django_capture_on_commit_callbacks
):
    login(client, supervisor.user)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/sup/r/{failed.id}/retry/")
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (ReplyStatus.QUEUED, 0, "")
    failed.thread.refresh_from_db()
    assert failed.thread.status == ThreadStatus.ANSWERED
    event = Event.objects.get(thread=failed.thread, verb="reply_retried")
    assert event.detail == {"reply": failed.id, "reason": "X refused: 403"}
    for callback in callbacks:
        callback()
    assert scheduled("inbox.tasks.post_reply") == [[failed.id]]


def test_it_refuses_an_agent_who_tries_to_retry(client, agent, failed):
    login(client, agent.user)
    assert client.post(f"/sup/r/{failed.id}/retry/").status_code == 403
    failed.refresh_from_db()
    assert failed.status == ReplyStatus.FAILED
    with pytest.raises(actions.ActionError, match="Only supervisors"):
        replies.do_retry_reply(failed.id, actor=agent)


def test_it_will_not_retry_under_another_agents_claim(
    client, supervisor, failed, agent, second_agent
):
    actions.do_release(failed.thread_id, agent=agent)
    actions.do_claim(failed.thread_id, agent=second_agent)
    login(client, supervisor.user)
    client.post(f"/sup/r/{failed.id}/retry/")
    failed.refresh_from_db()
    assert failed.status == ReplyStatus.FAILED
    assert "reply_retried" not in verbs(failed.thread)


def test_it_discards_a_failed_reply_with_its_reason(client, supervisor, failed, agent):
    login(client, supervisor.user)
    assert client.post(f"/sup/r/{failed.id}/discard/").status_code == 302
    failed.refresh_from_db()
    assert failed.status == ReplyStatus.DISCARDED
    event = Event.objects.get(thread=failed.thread, verb="reply_discarded")
    assert (event.actor, event.detail["reason"]) == (supervisor, "X refused: 403")
    failed.thread.refresh_from_db()
    assert failed.thread.claimed_by == agent  # still with its author, to write anew


def test_it_refuses_an_agent_who_tries_to_discard(client, agent, failed):
    login(client, agent.user)
    assert client.post(f"/sup/r/{failed.id}/discard/").status_code == 403
    failed.refresh_from_db()
    assert failed.status == ReplyStatus.FAILED


def test_it_only_retries_or_discards_failed_replies(supervisor, failed):
    replies.do_discard_reply(failed.id, actor=supervisor)
    with pytest.raises(actions.ActionError, match="discarded, not failed"):
        replies.do_retry_reply(failed.id, actor=supervisor)


def test_it_hides_another_brands_reply(client, supervisor, failed):
    from inbox.models import Brand

    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=5)
    boss = make_agent(other, "olga", role="supervisor")
    login(client, boss.user)
    assert client.post(f"/sup/r/{failed.id}/retry/").status_code == 404


def test_it_shows_the_failure_reason_on_the_dashboard_and_timeline(client, supervisor, failed):
    login(client, supervisor.user)
    assert "X refused: 403" in client.get("/sup/").content.decode()
    assert "X refused: 403" in client.get(f"/sup/t/{failed.thread_id}/").content.decode()
