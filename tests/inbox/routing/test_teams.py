"""Teams and routing rules: where a thread goes when it arrives or reopens, the Event that
says why, and the supervisors' changes (inbox.routing.teams)."""

from __future__ import annotations

import pytest

from inbox import actions
from inbox.errors import ActionError
from inbox.models import Event, Message, RoutingRule, Team, Thread, Verb
from inbox.routing import teams
from tests.helpers import make_agent, make_thread
from tests.inbox.ingest.pages import ingest, tweet, user


@pytest.fixture
def billing(supervisor) -> Team:
    return teams.do_create_team("Billing", agent=supervisor)


@pytest.fixture
def spanish(supervisor) -> Team:
    return teams.do_create_team("Español", agent=supervisor)


def routed_event(thread: Thread) -> Event:
    return Event.objects.filter(thread=thread, verb=Verb.ROUTED).latest("id")


def test_rules_are_tried_in_order_and_every_decision_says_which_matched(
    source, supervisor, billing, spanish
):
    # position 10 (language) is tried before position 20 (keyword), whatever their age
    keyword = teams.do_add_rule("keyword", r"refund|invoice", billing.id, 20, agent=supervisor)
    lang = teams.do_add_rule("language", "es", spanish.id, 10, agent=supervisor)
    es = tweet(1, "quiero un refund de mi pedido", author=501)
    es = es.__class__(**{**es.__dict__, "lang": "es"})
    en = tweet(2, "where is my invoice?", author=502)
    other = tweet(3, "hello there", author=503)
    ingest(source, [es, en, other], [user(501), user(502), user(503)])
    by_conversation = {t.conversation_id: t for t in Thread.objects.all()}
    assert by_conversation[1].team_id == spanish.id
    assert by_conversation[2].team_id == billing.id
    assert by_conversation[3].team == teams.default_team(source.brand_id)
    assert routed_event(by_conversation[1]).detail == {
        "team": spanish.id,
        "rule": lang.id,
        "matched": "language: es",
    }
    assert routed_event(by_conversation[2]).detail["rule"] == keyword.id
    assert routed_event(by_conversation[3]).detail["matched"] == "default team"


def test_lang_is_kept_on_the_message_and_the_thread(source):
    first = tweet(11, "hola", author=601)
    first = first.__class__(**{**first.__dict__, "lang": "es"})
    undetermined = tweet(12, "😀", author=602)
    undetermined = undetermined.__class__(**{**undetermined.__dict__, "lang": "und"})
    ingest(source, [first, undetermined], [user(601), user(602)])
    assert Message.objects.get(x_id=11).lang == "es"
    assert Thread.objects.get(conversation_id=11).lang == "es"
    assert (Message.objects.get(x_id=12).lang, Thread.objects.get(conversation_id=12).lang) == (
        "",
        "",
    )


def test_a_reopened_thread_is_routed_again(source, supervisor, billing, agent):
    ingest(source, [tweet(21, "thanks", author=701)], [user(701)])
    thread = Thread.objects.get()
    assert thread.team == teams.default_team(source.brand_id)
    actions.do_claim(thread.id, agent=agent)
    actions.do_close(thread.id, agent=agent)
    rule = teams.do_add_rule("keyword", "refund", billing.id, 1, agent=supervisor)
    ingest(
        source, [tweet(22, "actually I want a REFUND", author=701, conversation=21)], [user(701)]
    )
    thread.refresh_from_db()
    assert (thread.status, thread.team_id) == ("open", billing.id)
    event = routed_event(thread)
    assert event.detail == {
        "team": billing.id,
        "rule": rule.id,
        "matched": "keyword: refund",
        "reopened": True,
    }


def test_customer_tag_and_vip_rules(source, supervisor, billing, spanish, customer):
    teams.do_add_rule("tag", "Reseller", billing.id, 1, agent=supervisor)
    teams.do_add_rule("vip", "10000", spanish.id, 2, agent=supervisor)
    ingest(
        source,
        [tweet(31, "hi", author=801), tweet(32, "hi", author=802)],
        [user(801, followers=50_000), user(802)],
    )
    assert Thread.objects.get(conversation_id=31).team_id == spanish.id  # VIP by followers
    assert Thread.objects.get(conversation_id=32).team == teams.default_team(source.brand_id)
    from inbox.models import Customer

    Customer.objects.filter(x_user_id=802).update(tags=["reseller"])
    thread = Thread.objects.get(conversation_id=32)
    thread.status = "closed"  # test set-up only: a closed thread the customer reopens
    thread.save(update_fields=["status"])
    ingest(source, [tweet(33, "again", author=802, conversation=32)], [user(802)])
    thread.refresh_from_db()
    assert thread.team_id == billing.id


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("keyword", "refund(", "not a valid regular expression"),
        ("language", "klingon", "not a language X reports"),
        ("vip", "lots", "number of followers"),
        ("source", "999999", "one of the brand's sources"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_with_the_reason(
    supervisor, billing, kind, value, reason
):
    with pytest.raises(ActionError, match=reason):
        teams.do_add_rule(kind, value, billing.id, 1, agent=supervisor)
    assert RoutingRule.objects.count() == 0


def test_deleting_a_team_moves_its_threads_to_the_default_team(
    brand, customer, supervisor, billing, agent
):
    held = make_thread(brand, customer, 41, team=billing)
    waiting = make_thread(brand, customer, 42, team=billing)
    actions.do_claim(held.id, agent=agent)
    moved = teams.do_delete_team(billing.id, agent=supervisor)
    default = teams.default_team(brand.id)
    assert moved == 2
    held.refresh_from_db()
    waiting.refresh_from_db()
    assert (held.team_id, waiting.team_id) == (default.id, default.id)
    assert held.claimed_by_id == agent.id  # still theirs
    for thread in (held, waiting):
        assert routed_event(thread).detail["matched"] == "team “Billing” deleted"
    assert not Team.objects.filter(id=billing.id).exists()
    with pytest.raises(ActionError, match="default team cannot be deleted"):
        teams.do_delete_team(default.id, agent=supervisor)


def test_a_member_removed_keeps_what_they_hold(brand, customer, supervisor, billing, agent):
    teams.do_set_member(billing.id, agent, agent=supervisor, add=True)
    thread = make_thread(brand, customer, 51, team=billing)
    actions.do_claim(thread.id, agent=agent)
    teams.do_set_member(billing.id, agent, agent=supervisor, add=False)
    thread.refresh_from_db()
    assert (thread.status, thread.claimed_by_id) == ("claimed", agent.id)
    assert not billing.members.filter(id=agent.id).exists()


def test_claim_next_serves_only_the_agents_teams(brand, customer, supervisor, billing, agent):
    other = teams.do_create_team("Store", agent=supervisor)
    teams.do_set_member(billing.id, agent, agent=supervisor, add=True)
    store_thread = make_thread(brand, customer, 61, team=other, priority=100)
    unrouted = make_thread(brand, customer, 62, priority=50)  # the default team's
    mine = make_thread(brand, customer, 63, team=billing)
    assert actions.do_claim_next(agent=agent).id == mine.id
    assert actions.do_claim_next(agent=agent) is None
    # a colleague in no team works the whole brand, most urgent first
    colleague = make_agent(brand, "carl")
    assert actions.do_claim_next(agent=colleague).id == store_thread.id
    assert actions.do_claim_next(agent=colleague).id == unrouted.id


def test_only_supervisors_manage_teams(agent, billing):
    with pytest.raises(ActionError, match="Only supervisors"):
        teams.do_create_team("Rogue", agent=agent)
    with pytest.raises(ActionError, match="Only supervisors"):
        teams.do_add_rule("keyword", "x", billing.id, 1, agent=agent)
