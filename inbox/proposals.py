"""Proposed brand tweets: any active employee proposes a tweet (a tip, an outage notice);
a supervisor approves or rejects it; an approved one posts from the brand, with the
author's credit, exactly once.

- Deciding is a compare-and-set from `proposed`: of two supervisors approving at once,
  one wins and the other is told who decided. The winner queues one BrandTweet (one per
  proposal, a unique key) in the same transaction; post_brand_tweet runs after commit.
- Posting reuses inbox.outbox's machinery (`_begin`: the in-flight lease and attempts;
  `_finish`, `_back_off`, `_pause_brand`: one posting budget for the one handle) and
  looks on X before re-posting an uncertain attempt (xgateway.find_tweet), so a worker
  that dies after X accepted the tweet does not post it twice.
- Every decision and outcome writes an Event (no thread: the audit trail shows them).
- A tweet X refused is listed for supervisors, who retry or discard it as they do a failed
  reply (inbox.actions.lock_failed and requeue: the same lock, checks and reset).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.access import ANY_EMPLOYEE, SUPERVISORS, AgentRequest, role_required
from agents.models import Agent
from inbox import actions, outbox
from inbox.errors import ActionError
from inbox.models import BrandTweet, Event, Proposal, ReplyStatus
from inbox.text import MAX_WEIGHTED_LENGTH, render_body, weighted_length
from twelp import xgateway

# A worker's clock and X's may disagree: the look-up reads a little further back.
LOOKUP_MARGIN = timedelta(minutes=5)
PENDING_PAGE = 100
MINE_PAGE = 50


def _event(proposal: Proposal, verb: str, actor: Agent | None, **detail: object) -> None:
    Event.objects.create(
        brand_id=proposal.brand_id,
        actor=actor,
        verb=verb,
        detail={"proposal": proposal.id, **detail},
    )


def check_length(body: str) -> None:
    """Raises ActionError with the numbers when X would refuse the tweet."""
    length = weighted_length(body)
    if length > MAX_WEIGHTED_LENGTH:
        over = length - MAX_WEIGHTED_LENGTH
        raise ActionError(
            f"The tweet is {over} character{'s' if over != 1 else ''} too long for X "
            f"({length}/{MAX_WEIGHTED_LENGTH}, your credit included). Your text is kept."
        )


# --- actions -----------------------------------------------------------------------------


@transaction.atomic(durable=True)
def do_propose(*, agent: Agent, text: str) -> Proposal:
    """Any active employee; the body (text + their credit) must fit X's 280."""
    if not agent.is_active:
        raise ActionError("Only active employees can propose tweets.")
    text = text.strip()
    if not text:
        raise ActionError("The tweet is empty.")
    body, credit = render_body(text, agent)
    check_length(body)
    proposal = Proposal.objects.create(
        brand_id=agent.brand_id, author=agent, text=text, credit=credit, body=body
    )
    _event(proposal, "proposed", agent)
    return proposal


def _decide(proposal_id: int, actor: Agent, **changes: object) -> Proposal:
    """Compare-and-set from `proposed`; the loser of a race learns who decided first."""
    if not actor.is_supervisor:
        raise ActionError("Only supervisors can approve or reject proposed tweets.")
    decided = Proposal.objects.filter(
        id=proposal_id, brand_id=actor.brand_id, status=Proposal.Status.PROPOSED
    ).update(decided_by=actor, decided_at=timezone.now(), **changes)
    proposal = Proposal.objects.select_related("author", "decided_by").get(
        id=proposal_id, brand_id=actor.brand_id
    )
    if not decided:
        who = proposal.decided_by.name if proposal.decided_by else "someone"
        raise ActionError(f"{who} already decided this one: {proposal.get_status_display()}.")
    return proposal


@transaction.atomic(durable=True)
def do_approve(proposal_id: int, *, actor: Agent) -> Proposal:
    """A supervisor approves: the tweet is queued (once) and posted after commit."""
    proposal = _decide(proposal_id, actor, status=Proposal.Status.APPROVED)
    tweet = BrandTweet.objects.create(
        brand_id=proposal.brand_id, proposal=proposal, body=proposal.body
    )
    _event(proposal, "proposal_approved", actor, tweet=tweet.id)
    from inbox.tasks import post_brand_tweet

    post_brand_tweet.delay_on_commit(tweet.id)
    return proposal


@transaction.atomic(durable=True)
def do_reject(proposal_id: int, *, actor: Agent, reason: str) -> Proposal:
    """A supervisor rejects, saying why (the author sees it)."""
    reason = reason.strip()
    if not reason:
        raise ActionError("Say why, so the author can do better next time.")
    proposal = _decide(proposal_id, actor, status=Proposal.Status.REJECTED, reason=reason[:300])
    _event(proposal, "proposal_rejected", actor, reason=reason[:200])
    return proposal


def _lock_failed_tweet(tweet_id: int, actor: Agent) -> BrandTweet:
    tweets = BrandTweet.objects.select_related("proposal").filter(brand_id=actor.brand_id)
    return actions.lock_failed(tweets, tweet_id, actor=actor, noun="brand tweet")


@transaction.atomic(durable=True)
def do_retry_tweet(tweet_id: int, *, actor: Agent) -> BrandTweet:
    """A supervisor sends a failed brand tweet again: queued afresh, posted after commit."""
    tweet = _lock_failed_tweet(tweet_id, actor)
    reason = actions.requeue(tweet)
    _event(tweet.proposal, "proposal_retried", actor, tweet=tweet.id, reason=reason[:200])
    from inbox.tasks import post_brand_tweet

    post_brand_tweet.delay_on_commit(tweet.id)
    return tweet


@transaction.atomic(durable=True)
def do_discard_tweet(tweet_id: int, *, actor: Agent) -> BrandTweet:
    """A supervisor gives up on a failed brand tweet; its author sees it was discarded."""
    tweet = _lock_failed_tweet(tweet_id, actor)
    tweet.status = ReplyStatus.DISCARDED
    tweet.save(update_fields=["status"])
    reason = tweet.last_error[:200]
    _event(tweet.proposal, "proposal_discarded", actor, tweet=tweet.id, reason=reason)
    return tweet


def mark_posted(tweet: BrandTweet, x_id: int) -> None:
    """X has it: the tweet and its proposal are posted. Caller holds the row lock."""
    tweet.status = ReplyStatus.POSTED
    tweet.posted_x_id = x_id
    tweet.posted_at = timezone.now()
    tweet.last_error = ""
    tweet.save(update_fields=["status", "posted_x_id", "posted_at", "last_error"])
    proposal = tweet.proposal
    Proposal.objects.filter(id=proposal.id).update(status=Proposal.Status.POSTED)
    _event(proposal, "proposal_posted", None, tweet=tweet.id, x_id=x_id)


def mark_failed(tweet: BrandTweet, reason: str) -> None:
    """X refused for good: shown to the author and in the audit trail. Caller holds the lock."""
    tweet.status = ReplyStatus.FAILED
    tweet.last_error = reason[:1000]
    tweet.save(update_fields=["status", "last_error"])
    _event(tweet.proposal, "proposal_failed", None, tweet=tweet.id, reason=reason[:200])


# --- posting (inbox.outbox's machinery, for a standalone tweet) ----------------------------


def attempt(tweet_id: int) -> float | None:
    """Try to post once. Returns seconds until the row is due again, or None when done."""
    claimed = _claim(tweet_id, timezone.now())
    if not isinstance(claimed, tuple):
        return claimed
    tweet, was_sending = claimed
    brand = tweet.brand
    try:
        with xgateway.acting_for(brand):
            found = _already_posted(tweet) if was_sending else None
            posted = None if found is not None else xgateway.create_tweet(tweet.body)
    except xgateway.RateLimited as error:
        outbox._pause_brand(tweet, error.reset_at, brand_id=brand.id, model=BrandTweet)
        return max((error.reset_at - timezone.now()).total_seconds(), 1.0)
    except xgateway.Transient as error:
        return outbox._back_off(tweet.id, str(error), model=BrandTweet)
    except (xgateway.Permanent, xgateway.Unauthorized) as error:
        reason = f"X refused the tweet: {error}"
        outbox._finish(tweet.id, lambda row: mark_failed(row, reason), model=BrandTweet)
        return None
    x_id = found if posted is None else posted.id
    outbox._finish(tweet.id, lambda row: mark_posted(row, x_id), model=BrandTweet)
    if posted and posted.rate_limit_remaining == 0 and posted.rate_limit_reset is not None:
        outbox._pause_brand(None, posted.rate_limit_reset, brand_id=brand.id)
    return None


@transaction.atomic
def _claim(tweet_id: int, now: datetime):
    tweet = (
        BrandTweet.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("brand", "proposal")
        .filter(id=tweet_id, status__in=outbox.PENDING)
        .first()
    )
    if tweet is None:
        return None  # done already, gone, or another worker holds it this instant
    paused = tweet.brand.posting_paused_until
    return outbox._begin(tweet, now, paused_until=paused, fail=mark_failed)


def _already_posted(tweet: BrandTweet) -> int | None:
    since = (tweet.claimed_at or tweet.created_at) - LOOKUP_MARGIN
    since = min(since, tweet.created_at - LOOKUP_MARGIN)
    return xgateway.find_tweet(author_id=tweet.brand.x_user_id, text=tweet.body, since=since)


def due_tweets(now: datetime | None = None, limit: int = 500) -> list[int]:
    """The sweep's work: approved tweets due but carried by no task (a dead worker)."""
    now = now or timezone.now()
    rows = BrandTweet.objects.exclude(brand__posting_paused_until__gt=now)
    return outbox.due_rows(rows, now, limit)


# --- pages -------------------------------------------------------------------------------


class ProposalForm(forms.Form):
    text = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
        label="Your tweet",
        help_text="Posted from the brand with your credit once a supervisor approves it.",
    )


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False)


@require_http_methods(["GET", "POST"])
@role_required(ANY_EMPLOYEE)
def propose(request: AgentRequest) -> HttpResponse:
    """Propose a tweet; below, the author's own proposals and what became of them."""
    form = ProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            do_propose(agent=request.agent, text=form.cleaned_data["text"])
        except ActionError as error:
            form.add_error("text", str(error))
        else:
            messages.success(request, "Proposed. A supervisor will approve or reject it.")
            return redirect("inbox:proposals")
    mine = (
        Proposal.objects.filter(author=request.agent)
        .select_related("decided_by", "tweet")
        .order_by("-created_at", "-id")[:MINE_PAGE]
    )
    credit = render_body("", request.agent)[1]
    context = {"form": form, "mine": mine, "credit": credit}
    return render(request, "inbox/proposals.html", context)


@require_GET
@role_required(SUPERVISORS)
def pending(request: AgentRequest) -> HttpResponse:
    """The proposals waiting for a decision, oldest first."""
    rows = (
        Proposal.objects.filter(brand_id=request.agent.brand_id, status=Proposal.Status.PROPOSED)
        .select_related("author")
        .order_by("created_at", "id")[:PENDING_PAGE]
    )
    failed = (
        BrandTweet.objects.filter(brand_id=request.agent.brand_id, status=ReplyStatus.FAILED)
        .select_related("proposal__author")
        .order_by("created_at", "id")[:PENDING_PAGE]
    )
    context = {"proposals": rows, "failed": failed}
    return render(request, "inbox/proposals_pending.html", context)


@require_POST
@role_required(SUPERVISORS)
def approve(request: AgentRequest, proposal_id: int) -> HttpResponse:
    return _decision(request, proposal_id, lambda: do_approve(proposal_id, actor=request.agent))


@require_POST
@role_required(SUPERVISORS)
def reject(request: AgentRequest, proposal_id: int) -> HttpResponse:
    form = RejectForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _decision(
        request, proposal_id, lambda: do_reject(proposal_id, actor=request.agent, reason=reason)
    )


@require_POST
@role_required(SUPERVISORS)
def retry_tweet(request: AgentRequest, tweet_id: int) -> HttpResponse:
    return _tweet_action(request, tweet_id, do_retry_tweet, "Queued to post again.")


@require_POST
@role_required(SUPERVISORS)
def discard_tweet(request: AgentRequest, tweet_id: int) -> HttpResponse:
    return _tweet_action(request, tweet_id, do_discard_tweet, "Discarded.")


def _tweet_action(request: AgentRequest, tweet_id: int, action, done: str) -> HttpResponse:
    try:
        action(tweet_id, actor=request.agent)
    except BrandTweet.DoesNotExist:
        raise Http404("No such brand tweet.") from None
    except ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("inbox:proposals_pending")


def _decision(request: AgentRequest, proposal_id: int, decide) -> HttpResponse:
    error = ""
    try:
        decide()
    except Proposal.DoesNotExist:
        raise Http404("No such proposal.") from None
    except ActionError as failure:
        error = str(failure)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("inbox:proposals_pending")
    proposal = Proposal.objects.select_related("author", "decided_by").get(
        id=proposal_id, brand_id=request.agent.brand_id
    )
    context = {"proposal": proposal, "error": error}
    return render(request, "inbox/proposals_pending.html#row", context)
