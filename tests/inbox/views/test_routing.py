"""The supervisors' routing page, and the queue's team and language filters."""

from __future__ import annotations

import re

from inbox.models import Event, RoutingRule, Team, Thread, Verb
from inbox.routing import teams
from tests.helpers import make_thread


def rows(response) -> list[int]:
    return [int(i) for i in re.findall(r'data-thread-id="(\d+)"', response.content.decode())]


def test_a_supervisor_creates_a_team_adds_a_member_and_a_rule(client, supervisor, agent):
    client.force_login(supervisor.user)
    response = client.post("/sup/routing/teams/", {"name": "  Billing  "}, follow=True)
    assert "Team “Billing” created" in response.content.decode()
    team = Team.objects.get(name="Billing")
    client.post(f"/sup/routing/teams/{team.id}/member/", {"agent": agent.id})
    assert list(team.members.all()) == [agent]
    client.post(
        "/sup/routing/rules/",
        {"kind": "hashtag", "value": "#Refund", "team": team.id, "position": "5"},
    )
    rule = RoutingRule.objects.get()
    assert (rule.kind, rule.value, rule.position, rule.team_id) == ("hashtag", "refund", 5, team.id)
    page = client.get("/sup/routing/").content.decode()
    assert "Billing" in page and "refund" in page and agent.name in page
    assert Event.objects.filter(verb=Verb.ROUTING_RULE_CHANGED).count() == 1


def test_an_invalid_regex_is_refused_with_the_reason_and_the_page_says_so(client, supervisor):
    client.force_login(supervisor.user)
    team = teams.default_team(supervisor.brand_id)
    response = client.post(
        "/sup/routing/rules/",
        {"kind": "keyword", "value": "refund[", "team": team.id, "position": "1"},
        follow=True,
    )
    page = response.content.decode()
    assert "is not a valid regular expression" in page
    assert RoutingRule.objects.count() == 0
    response = client.post(
        "/sup/routing/rules/",
        {"kind": "language", "value": "elvish", "team": team.id, "position": "1"},
        follow=True,
    )
    assert "is not a language X reports" in response.content.decode()


def test_deleting_a_team_from_the_page_moves_its_threads(client, supervisor, customer):
    client.force_login(supervisor.user)
    team = teams.do_create_team("Store", agent=supervisor)
    thread = make_thread(supervisor.brand, customer, 1, team=team)
    response = client.post(f"/sup/routing/teams/{team.id}/delete/", follow=True)
    assert "1 thread moved to the default team" in response.content.decode()
    thread.refresh_from_db()
    assert thread.team == teams.default_team(supervisor.brand_id)


def test_the_queue_shows_my_teams_threads_and_filters_by_team_and_language(
    client, supervisor, agent, customer
):
    billing = teams.do_create_team("Billing", agent=supervisor)
    store = teams.do_create_team("Store", agent=supervisor)
    teams.do_set_member(billing.id, agent, agent=supervisor, add=True)
    brand = agent.brand
    mine = make_thread(brand, customer, 1, team=billing, lang="es", priority=3)
    mine_en = make_thread(brand, customer, 2, team=billing, lang="en", priority=2)
    theirs = make_thread(brand, customer, 3, team=store, lang="es", priority=1)
    client.force_login(agent.user)
    assert rows(client.get("/")) == [mine.id, mine_en.id]
    assert rows(client.get(f"/?team={store.id}")) == [theirs.id]
    assert rows(client.get("/?team=all&lang=es")) == [mine.id, theirs.id]
    assert rows(client.get("/?lang=es")) == [mine.id]
    page = client.get("/?team=all").content.decode()
    assert re.search(r'<span class="badge lang" lang="es"[^>]*>es</span>', page)
    assert client.get("/?lang=<script>").status_code == 200  # unknown: ignored, any language


def test_an_agent_in_no_team_sees_the_whole_queue(client, agent, customer, supervisor):
    billing = teams.do_create_team("Billing", agent=supervisor)
    in_team = make_thread(agent.brand, customer, 1, team=billing, priority=2)
    no_team = make_thread(agent.brand, customer, 2, priority=1)
    client.force_login(agent.user)
    assert rows(client.get("/")) == [in_team.id, no_team.id]


def test_the_thread_page_shows_the_language_and_team(client, agent, customer, supervisor):
    billing = teams.do_create_team("Billing", agent=supervisor)
    thread = make_thread(agent.brand, customer, 1, team=billing, lang="pt")
    client.force_login(agent.user)
    page = client.get(f"/t/{thread.id}/").content.decode()
    assert 'lang="pt"' in page and ">Billing</span>" in page
    assert Thread.objects.get(id=thread.id).lang == "pt"
