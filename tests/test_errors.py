"""The pages for "not there", "not yours" and "broke", in the app's chrome in every mode,
the favicon, and the log lines of the expected ones (twelp.errors, twelp.logfilters)."""

from __future__ import annotations

import logging

import pytest
from django.test import override_settings

from tests.helpers import login


@pytest.mark.parametrize("debug", [False, True])
def test_a_missing_thread_is_our_404_in_the_apps_chrome(client, agent, debug):
    login(client, agent.user)
    with override_settings(DEBUG=debug):
        response = client.get("/t/999999/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist" in body and 'class="topbar"' in body
    assert "My profile" in body  # the employee's own links: logged-in chrome
    assert "URLconf" not in body and "technical" not in body.lower()


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_url_is_our_404_too(client, agent, debug):
    login(client, agent.user)
    with override_settings(DEBUG=debug):
        response = client.get("/no/such/page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist" in body and "My profile" in body
    assert "Using the URLconf" not in body


def test_a_url_without_its_slash_is_still_redirected_in_debug(client, agent):
    login(client, agent.user)
    with override_settings(DEBUG=True):
        response = client.get("/team")
    assert response.status_code == 301 and response["Location"] == "/team/"


def test_a_forbidden_page_is_one_line_in_the_log(client, agent, caplog):
    login(client, agent.user)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/team/")
    assert response.status_code == 403
    assert "This page is not open to you" in response.content.decode()
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [r.getMessage() for r in records] == ["Forbidden (Permission denied): /team/"]
    assert all(r.exc_info is None for r in records)


def test_the_500_page_wears_the_chrome_without_the_request(rf):
    from twelp.views import server_error

    try:
        raise ValueError("boom")
    except ValueError:
        response = server_error(rf.get("/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in body and 'class="topbar"' in body
    assert "twelp.css" in body


def test_the_favicon_answers_at_the_root_and_is_linked(client, agent):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    login(client, agent.user)
    assert 'rel="icon"' in client.get("/").content.decode()


def test_the_demo_links_follow_its_port():
    from inbox.management.commands.demo import Command

    assert Command()._site_env("127.0.0.1", 9123)["SITE_URL"] == "http://127.0.0.1:9123"


def test_beat_says_it_started_but_not_each_task_it_sends(caplog):
    """Its start is what operators (and tests/processes.celery_beat) wait for; its line per
    task sent would fill an idle demo's log."""
    beat = logging.getLogger("celery.beat")
    with caplog.at_level(logging.INFO):
        beat.info("beat: Starting...")
        beat.info("Scheduler: Sending due task %s (%s)", "poll-sources", "inbox.tasks.poll")
        beat.error("Message Error: schedule broken")
    said = [record.getMessage() for record in caplog.records if record.name == "celery.beat"]
    assert said == ["beat: Starting...", "Message Error: schedule broken"]
