"""The offer order (inbox.routing.offer): a breached first-response target first, oldest
first; then waiting time moved earlier by priority (offer_at, kept by a trigger)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from inbox import actions
from inbox.models import Team, Thread
from inbox.routing import offer
from tests.helpers import make_thread


def ago(minutes: float):
    return timezone.now() - timedelta(minutes=minutes)


def test_a_breached_target_outranks_any_priority(brand, customer, agent):
    brand.sla_first_response = timedelta(minutes=15)
    brand.save(update_fields=["sla_first_response"])
    agent.brand.refresh_from_db()
    urgent = make_thread(brand, customer, 1, priority=135, waiting_since=ago(1))
    breached = make_thread(brand, customer, 2, priority=0, waiting_since=ago(20))
    older_breach = make_thread(brand, customer, 3, priority=0, waiting_since=ago(30))
    assert actions.do_claim_next(agent=agent) == older_breach
    assert actions.do_claim_next(agent=agent) == breached
    assert actions.do_claim_next(agent=agent) == urgent


def test_rank_rises_with_wait_priority_buys_a_stated_head_start(brand, customer, agent):
    brand.sla_first_response = timedelta(hours=10)  # no breach: the offer key alone
    brand.save(update_fields=["sla_first_response"])
    agent.brand.refresh_from_db()
    assert offer.head_start() == timedelta(minutes=45)
    quiet_long = make_thread(brand, customer, 1, priority=0, waiting_since=ago(50))
    loud_new = make_thread(brand, customer, 2, priority=135, waiting_since=ago(1))
    quiet_short = make_thread(brand, customer, 3, priority=0, waiting_since=ago(10))
    loud_mid = make_thread(brand, customer, 4, priority=100, waiting_since=ago(1))  # -33 min
    order = [actions.do_claim_next(agent=agent) for _ in range(4)]
    assert order == [quiet_long, loud_new, loud_mid, quiet_short]


def test_the_trigger_keeps_offer_at_whoever_writes_the_row(brand, customer):
    thread = make_thread(brand, customer, 1, priority=3, waiting_since=ago(5))
    thread.refresh_from_db()
    assert thread.offer_at == offer.offer_at(thread.waiting_since, 3)
    Thread.objects.filter(id=thread.id).update(priority=30)  # an UPDATE by anyone
    thread.refresh_from_db()
    assert thread.offer_at == offer.offer_at(thread.waiting_since, 30)
    Thread.objects.bulk_create([Thread(brand=brand, customer=customer, conversation_id=2)])
    made = Thread.objects.get(conversation_id=2)
    assert made.offer_at == made.waiting_since  # priority 0


def test_a_spanish_thread_goes_to_spanish_speakers_first_then_to_anyone(
    brand, customer, agent, second_agent, supervisor
):
    from inbox.routing import teams

    teams.do_set_languages(second_agent, "ES", agent=supervisor)
    second_agent.refresh_from_db()
    assert second_agent.languages == ["es"]
    spanish = make_thread(brand, customer, 1, lang="es", priority=50, waiting_since=ago(1))
    english = make_thread(brand, customer, 2, lang="en", waiting_since=ago(1))
    assert actions.do_claim_next(agent=agent) == english  # Alice speaks no Spanish
    assert actions.do_claim_next(agent=agent) is None
    assert actions.do_claim_next(agent=second_agent) == spanish
    # unclaimed, after the brand's language_wait (10 min): anyone may take it
    actions.do_release(spanish.id, agent=second_agent)
    later = timezone.now() + brand.language_wait
    assert actions.do_claim_next(agent=agent, now=later) == spanish


def test_an_unknown_language_for_an_agent_is_refused(agent, supervisor):
    import pytest

    from inbox.errors import ActionError
    from inbox.routing import teams

    with pytest.raises(ActionError, match="Not a language X reports: xx"):
        teams.do_set_languages(agent, "es, xx", agent=supervisor)
    agent.refresh_from_db()
    assert agent.languages == []


def _thread_scans(plan: dict) -> list[dict]:
    """Every scan of inbox_thread in an EXPLAIN (FORMAT JSON) plan."""
    found = [plan] if plan.get("Relation Name") == "inbox_thread" else []
    for child in plan.get("Plans", []):
        found += _thread_scans(child)
    return found


@pytest.mark.parametrize("breached", [True, False], ids=["tier 2, breached", "tier 3, offer_at"])
def test_an_agent_in_a_team_reads_only_their_teams_range(brand, customer, agent, breached):
    """Tiers 2 and 3 read one index range per team of the agent: the older threads of
    other teams are never read, let alone removed by a filter one by one (at 1M threads
    in 20 teams that walk cost 2,341 rows a claim: BENCHMARKS.md, issue 15)."""
    brand.sla_first_response = timedelta(minutes=15 if breached else 100_000)
    brand.save(update_fields=["sla_first_response"])
    agent.brand.refresh_from_db()
    mine, theirs = (Team.objects.create(brand=brand, name=n) for n in ("Billing", "Store"))
    mine.members.add(agent)
    for n in range(30):  # the other team's, all older
        make_thread(brand, customer, n, team=theirs, waiting_since=ago(600 - n))
    ours = make_thread(brand, customer, 99, team=mine, waiting_since=ago(60))
    # Newer threads of the agent's team: a range of one row costs the same read in either
    # order's index and then sorted, so the planner's pick between them followed whatever
    # an earlier test left (CI failed on it: pytest-randomly seed 490519294). Forty rows
    # make the head of the right order clearly the cheapest read, as at size.
    for n in range(40):
        make_thread(brand, customer, 100 + n, team=mine, waiting_since=ago(59 - n))
    params = actions._claim_params(agent, None, assigned=False)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: as at size
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        # The statistics of these rows, not of whatever an earlier test left (else the
        # planner may take the brand-wide range: the plan depended on the test order).
        # Its column statistics are rolled back with the transaction.
        cursor.execute("ANALYZE inbox_thread")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + actions._CLAIM_NEXT_SQL, params)
        [[plan]] = cursor.fetchone()
        transaction.set_rollback(True)
    scans = [scan for scan in _thread_scans(plan["Plan"]) if scan.get("Actual Loops")]
    # The team ranges of tiers 2 and 3: the scans keyed by the team. Not "any scan of a
    # team index": tier 1 (offered to this agent) may be planned on one too, reading the
    # brand's open threads with offered_to_id as a filter, when the table is tiny and its
    # pages still hold the rolled-back rows of the tests before (the planner's estimate
    # follows the page count: thread_offers and a team index then cost the same, and the
    # test failed after some orders; pytest-randomly seed 2380726391).
    team_scans = [s for s in scans if "COALESCE(team_id" in s.get("Index Cond", "")]
    # Tier 2 reads the team's waiting order. Tier 3 may be planned on either team index
    # at this size (CI picked the waiting one with 41 rows in the team, seeds 490519294
    # and 1863193612): both are keyed by the team, which is what this test guards.
    names = {scan["Index Name"] for scan in team_scans}
    assert "thread_team_open_waiting" in names if breached else names
    assert names <= {"thread_team_open_waiting", "thread_team_offer_order"}
    assert sum(scan.get("Rows Removed by Filter", 0) for scan in team_scans) == 0
    # The brand's own ranges may be planned only where they are empty: tier 2 with no
    # thread past its target at all reads the brand's range of breached threads, none,
    # as cheaply as the team's (the planner's pick then follows the statistics an earlier
    # test left: CI failed on it after an order). What must never happen is the walk:
    # the other team's older threads read and dropped one by one.
    brand_ranges = [
        scan
        for scan in scans
        if scan.get("Index Name") in {"thread_open_waiting", "thread_offer_order"}
    ]
    for scan in brand_ranges:
        assert (scan["Actual Rows"], scan.get("Rows Removed by Filter", 0)) == (0, 0), scan
    assert actions.do_claim_next(agent=agent) == ours
