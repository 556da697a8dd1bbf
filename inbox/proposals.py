"""Proposed brand tweets: any active employee proposes a tweet (a tip, an outage notice);
a supervisor approves or rejects it; an approved one posts from the brand, with the
author's credit, exactly once.

- Deciding is a compare-and-set from `proposed`: of two supervisors approving at once,
  one wins and the other is told who decided. The winner queues one BrandTweet (one per
  proposal, a unique key) in the same transaction; post_brand_tweet runs after commit.
- Posting is the outbox's (inbox.outbox.brand_tweets: one posting budget for the one
  handle, a look on X before re-posting an uncertain attempt); the outbox alone writes
  the tweet's status after `do_approve` creates it `queued`, and tells this module its
  outcome (`tweet_posted`, `tweet_event`).
- Every decision and outcome writes an Event (no thread: the audit trail shows them).
- A tweet X refused is listed for supervisors, who retry or discard it as they do a failed
  reply (inbox.outbox.brand_tweets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inbox import events, schedule
from inbox.errors import ActionError
from inbox.models import BrandTweet, Proposal, Verb
from inbox.rules.text import MAX_WEIGHTED_LENGTH, render_body, weighted_length

if TYPE_CHECKING:
    from agents.models import Agent


def _event(proposal: Proposal, verb: Verb, actor: Agent | None, **detail: object) -> None:
    events.record(verb, brand_id=proposal.brand_id, actor=actor, proposal=proposal.id, **detail)


def check_length(body: str) -> None:
    """Raises ActionError with the numbers when X would refuse the tweet."""
    length = weighted_length(body)
    if length > MAX_WEIGHTED_LENGTH:
        over = length - MAX_WEIGHTED_LENGTH
        raise ActionError(
            ngettext(
                "The tweet is %(over)s character too long for X (%(length)s/%(limit)s, your "
                "credit included). Your text is kept.",
                "The tweet is %(over)s characters too long for X (%(length)s/%(limit)s, your "
                "credit included). Your text is kept.",
                over,
            )
            % {"over": over, "length": length, "limit": MAX_WEIGHTED_LENGTH}
        )


@transaction.atomic(durable=True)
def do_propose(*, agent: Agent, text: str) -> Proposal:
    """Any active employee; the body (text + their credit) must fit X's 280."""
    if not agent.is_active:
        raise ActionError(_("Only active employees can propose tweets."))
    text = text.strip()
    if not text:
        raise ActionError(_("The tweet is empty."))
    body, credit = render_body(text, agent)
    check_length(body)
    proposal = Proposal.objects.create(
        brand_id=agent.brand_id, author=agent, text=text, credit=credit, body=body
    )
    _event(proposal, Verb.PROPOSED, agent)
    return proposal


def _decide(proposal_id: int, actor: Agent, **changes: object) -> Proposal:
    """Compare-and-set from `proposed`; the loser of a race learns who decided first."""
    if not actor.is_supervisor:
        raise ActionError(_("Only supervisors can approve or reject proposed tweets."))
    decided = Proposal.objects.filter(
        id=proposal_id, brand_id=actor.brand_id, status=Proposal.Status.PROPOSED
    ).update(decided_by=actor, decided_at=timezone.now(), **changes)
    proposal = Proposal.objects.select_related("author", "decided_by").get(
        id=proposal_id, brand_id=actor.brand_id
    )
    if not decided:
        who = proposal.decided_by.name if proposal.decided_by else "someone"
        raise ActionError(
            _("%(who)s already decided this one: %(get_status_display)s.")
            % {"who": who, "get_status_display": proposal.get_status_display()}
        )
    return proposal


@transaction.atomic(durable=True)
def do_approve(proposal_id: int, *, actor: Agent) -> Proposal:
    """A supervisor approves: the tweet is queued (once) and posted after commit."""
    proposal = _decide(proposal_id, actor, status=Proposal.Status.APPROVED)
    tweet = BrandTweet.objects.create(
        brand_id=proposal.brand_id, proposal=proposal, body=proposal.body
    )
    _event(proposal, Verb.PROPOSAL_APPROVED, actor, tweet=tweet.id)
    schedule.post_brand_tweet(tweet.id)
    return proposal


@transaction.atomic(durable=True)
def do_reject(proposal_id: int, *, actor: Agent, reason: str) -> Proposal:
    """A supervisor rejects, saying why (the author sees it)."""
    reason = reason.strip()
    if not reason:
        raise ActionError(_("Say why, so the author can do better next time."))
    proposal = _decide(proposal_id, actor, status=Proposal.Status.REJECTED, reason=reason[:300])
    _event(proposal, Verb.PROPOSAL_REJECTED, actor, reason=reason[:200])
    return proposal


# --- the proposal's side of its tweet (inbox.outbox.brand_tweets writes the tweet's row) ---


def tweet_posted(tweet: BrandTweet) -> None:
    """X has the proposal's tweet (marked posted by the outbox): so is the proposal.
    In the outbox's transaction."""
    Proposal.objects.filter(id=tweet.proposal_id).update(status=Proposal.Status.POSTED)
    tweet_event(tweet, Verb.PROPOSAL_POSTED, None, x_id=tweet.posted_x_id)


def tweet_event(tweet: BrandTweet, verb: Verb, actor: Agent | None, **detail: object) -> None:
    """An outcome of the proposal's tweet (posted, failed, retried, discarded) in the audit
    trail."""
    _event(tweet.proposal, verb, actor, tweet=tweet.id, **detail)
