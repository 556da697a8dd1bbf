"""The dashboard page: who sees it, what it shows, how it refreshes, what it costs."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.live import presence, version
from inbox.models import Source
from tests.helpers import login, make_thread
from tests.inbox.scenario import NOW, at, build_scenario

# The session's agent, then a fixed set of bounded reads (the budgets too) in one execute
# (twelp.prepared.together; 3 of them the quality loop's, 1 X's spend, 1 the last
# retention sweep), and room for the page's frame.
MAX_QUERIES = 6


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert match, f"no figure {name}"
    return match.group(1).strip()


def test_it_shows_supervisors_the_figures(client, supervisor, scenario):
    login(client, supervisor.user)
    with at(NOW):
        response = client.get("/sup/")
    assert response.status_code == 200
    html = response.content.decode()
    assert figure(html, "open") == "2"
    assert figure(html, "claimed") == "1"
    assert figure(html, "answered") == "1"
    assert figure(html, "oldest") == "30 min"
    assert figure(html, "sla-breached") == "1"
    assert figure(html, "sla-near") == "1"
    assert figure(html, "posted-hour") == "2"
    assert 'class="sla-breach"' in html  # t7 in "Longest waiting"


def test_it_refuses_agents(client, agent):
    login(client, agent.user)
    assert client.get("/sup/").status_code == 403


def test_it_answers_htmx_with_the_live_part_only(client, supervisor, scenario):
    login(client, supervisor.user)
    with at(NOW):
        response = client.get("/sup/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="dash"' in response.content


def test_it_answers_an_unchanged_refresh_from_redis_without_postgresql(
    client, supervisor, scenario, django_assert_num_queries
):
    login(client, supervisor.user)
    with at(NOW):
        page = client.get("/sup/").content.decode()
        shown = re.search(r"\?v=([\d.]+)", page).group(1)
        with django_assert_num_queries(0):
            response = client.get(f"/sup/?v={shown}", HTTP_HX_REQUEST="true")
    assert response.status_code == 204


def test_it_refreshes_when_the_queue_changed(client, supervisor, brand, customer):
    login(client, supervisor.user)
    with at(NOW):
        page = client.get("/sup/").content.decode()
        shown = re.search(r"\?v=([\d.]+)", page).group(1)
        make_thread(brand, customer, 99)
        version.bump(brand.id)  # what the poller does after commit
        response = client.get(f"/sup/?v={shown}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert figure(response.content.decode(), "open") == "1"


def _queries(client, brand) -> int:
    """Statements of a dashboard that reads every figure: a new version, so nothing of the
    shared render (inbox.live.fragments) is reused."""
    version.bump(brand.id)
    with at(NOW), CaptureQueriesContext(connection) as queries:
        assert client.get("/sup/").status_code == 200
    return len(queries)


def test_it_costs_a_bounded_number_of_queries_whatever_the_data(
    client, brand, customer, agent, second_agent, supervisor, django_assert_max_num_queries
):
    login(client, supervisor.user)
    Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
    with django_assert_max_num_queries(MAX_QUERIES), at(NOW):
        client.get("/sup/")
    empty = _queries(client, brand)
    build_scenario(brand, customer, agent, second_agent)
    for i in range(40):  # more history: closed, answered, open and claimed threads
        make_thread(brand, customer, 1000 + i, status="closed" if i % 2 else "open")
    presence.seen(brand.id, agent.id)
    version.bump(brand.id)
    with django_assert_max_num_queries(MAX_QUERIES), at(NOW):
        client.get("/sup/")
    assert _queries(client, brand) == empty


def test_it_reads_every_figure_in_one_round_trip(client, brand, supervisor, scenario):
    """After a change the figures are read in one execute (twelp.prepared.together): the
    sources, queue counts, longest waits, SLA counts, windows, hours, the Team table's
    three, the outbox's three, the reviews, the surveys' two, the retention sweep and the
    budgets (not kept yet for the new version)."""
    login(client, supervisor.user)
    assert client.get("/sup/").status_code == 200
    version.bump(brand.id)
    with at(NOW), CaptureQueriesContext(connection) as queries:
        assert client.get("/sup/").status_code == 200
    batches = [q["sql"] for q in queries.captured_queries if "inbox_rollup" in q["sql"]]
    assert len(batches) == 1
    for table in ("inbox_source", "inbox_thread", "inbox_reply", "inbox_brandtweet"):
        assert table in batches[0]
    for table in ("inbox_answerreview", "inbox_survey", "inbox_retentionrun", "agents_agent"):
        assert table in batches[0]
    for table in ("inbox_postingbudget", "inbox_rollup", "inbox_queuecount"):
        assert table in batches[0]
    assert len(queries) <= 2  # and the session's user (the budgets are in it too)


def test_it_shows_who_is_online_and_what_they_hold(client, supervisor, agent, scenario):
    login(client, supervisor.user)
    with at(NOW):
        presence.seen(agent.brand_id, agent.id)
        html = client.get("/sup/").content.decode()
    row = re.search(rf'<tr data-agent-id="{agent.id}">(.*?)</tr>', html, re.S).group(1)
    assert "online" in row and "@kim" in row
    assert re.search(r'data-figure="credits">2<', row)


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_it_counts_today_in_the_brands_time_zone(brand, customer, agent, second_agent, tz):
    from datetime import timedelta

    from inbox import figures
    from tests.inbox.scenario import answer, new_thread

    brand.timezone = tz
    brand.save()
    build_scenario(brand, customer, agent, second_agent)
    # 03:00 UTC is today in UTC but still yesterday (23:00) in New York.
    early = NOW.replace(hour=3)
    thread = new_thread(brand, customer, 50, early)
    answer(thread, agent, claimed=early, sent=early, posted=early + timedelta(minutes=1))
    with at(NOW):
        board = figures.build(brand)
    today = {w.key: w for w in board.windows}["today"]
    credits = {row.agent.id: row.today.get("posted") for row in board.agents}
    assert today.posted == (4 if tz == "UTC" else 3)
    assert credits[agent.id] == (3 if tz == "UTC" else 2)


def _live(client) -> str:
    """The dashboard's live part, its per-request CSRF tokens and its version blanked."""
    response = client.get("/sup/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
    return re.sub(r"v=[\d.]+", "v=", html)


def test_its_kept_parts_never_show_a_stale_value_after_a_change(
    client, supervisor, brand, customer, agent, second_agent
):
    """Each part kept by what it shows (inbox.templatetags.kept) equals, after each kind
    of change, the same part rendered with nothing kept."""
    from datetime import timedelta

    from inbox import actions
    from inbox.models import Reply, ReplyStatus
    from inbox.templatetags import kept
    from tests.inbox.scenario import MIN, new_thread, post

    login(client, supervisor.user)
    Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
    build_scenario(brand, customer, agent, second_agent)
    thread = new_thread(brand, customer, 77, NOW - 3 * MIN)
    reply = None

    def claim():
        actions.do_claim(thread.id, agent=agent)

    def answer():
        nonlocal reply
        reply = actions.do_send_reply(thread.id, agent=agent, text="@kim kept answer")

    def posted():
        post(reply)

    def failed():
        Reply.objects.filter(pk=reply.pk).update(
            status=ReplyStatus.FAILED, posted_x_id=None, posted_at=None, last_error="refused"
        )

    def targets():
        brand.sla_first_response = timedelta(minutes=7)
        brand.save()

    def online():
        presence.seen(brand.id, second_agent.id)

    def closed():
        actions.do_close(thread.id, agent=agent)

    with at(NOW):
        shown = [_live(client)]  # every part kept as it was before the changes
    for step, change in enumerate((claim, answer, posted, failed, targets, online, closed)):
        when = NOW + step * 17 * timedelta(seconds=1)  # the durations move too
        with at(when):
            change()
            version.bump(brand.id)
            warm = _live(client)
            kept.forget()
            version.bump(brand.id)  # the shared entry too: rendered again, cold
            cold = _live(client)
        assert warm == cold, change.__name__
        shown.append(warm)
    assert len(set(shown)) == len(shown)  # every change showed
    assert "7 min" in shown[5]  # the new target
    assert figure(shown[-1], "claimed") == "1"  # scenario's t8 is still held; ours closed


def test_its_team_table_after_each_change_of_a_holding_equals_a_cold_render(
    client, supervisor, brand, customer, agent, second_agent
):
    """The Team table's rows are plain values (inbox.figures.Member, Held) kept by what
    they show: after a claim, a reassignment, a release, a customer's new handle, an
    employee's new name and a close, the live part equals one rendered with nothing kept,
    against the real PostgreSQL and Redis."""
    from datetime import timedelta

    from agents.models import Agent
    from inbox import actions
    from inbox.models import Customer
    from inbox.templatetags import kept
    from tests.inbox.scenario import MIN, new_thread

    login(client, supervisor.user)
    build_scenario(brand, customer, agent, second_agent)
    thread = new_thread(brand, customer, 78, NOW - 3 * MIN)

    def team(html: str, who: Agent) -> str:
        found = re.search(rf'<tr data-agent-id="{who.id}">(.*?)</tr>', html, re.S)
        return found.group(1) if found else ""

    def claim():
        actions.do_claim(thread.id, agent=agent)

    def reassign():
        actions.do_reassign(thread.id, to=second_agent, actor=supervisor)

    def renamed_customer():
        Customer.objects.filter(pk=customer.pk).update(handle="kim_renamed")

    def renamed_agent():
        Agent.objects.filter(pk=second_agent.pk).update(name="Zed Renamed")

    def release():
        actions.do_release(thread.id, agent=supervisor)

    def claim_again_and_close():
        actions.do_claim(thread.id, agent=agent)
        actions.do_close(thread.id, agent=agent)

    with at(NOW):
        _live(client)  # every part kept as it is before the changes
    rows = []
    steps = (claim, reassign, renamed_customer, renamed_agent, release, claim_again_and_close)
    for step, change in enumerate(steps):
        with at(NOW + step * 13 * timedelta(seconds=1)):
            change()
            version.bump(brand.id, [thread.id])
            warm = _live(client)
            kept.forget()
            version.bump(brand.id)
            cold = _live(client)
        assert warm == cold, change.__name__
        rows.append((team(warm, agent), team(warm, second_agent)))
    link = f'href="/sup/t/{thread.id}/"'
    assert link in rows[0][0] and link not in rows[0][1]  # claimed by agent
    assert link in rows[1][1] and link not in rows[1][0]  # reassigned
    assert "@kim_renamed" in rows[2][1]
    assert "Zed Renamed" in rows[3][1]
    assert link not in rows[4][0] + rows[4][1]  # released
    assert link not in rows[5][0] + rows[5][1]  # closed
