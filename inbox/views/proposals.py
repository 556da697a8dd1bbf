"""Proposed brand tweets' pages: propose (any employee), decide and retry (supervisors)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.access import ANY_EMPLOYEE, SUPERVISORS, AgentRequest, role_required
from inbox.errors import ActionError
from inbox.forms import ProposalForm, RejectForm
from inbox.models import BrandTweet, Proposal, ReplyStatus
from inbox.outbox.brand_tweets import do_discard_tweet, do_retry_tweet
from inbox.proposals import do_approve, do_propose, do_reject
from inbox.rules.text import render_body

PENDING_PAGE = 100
MINE_PAGE = 50


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
            messages.success(request, _("Proposed. A supervisor will approve or reject it."))
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
    return _tweet_action(request, tweet_id, do_retry_tweet, _("Queued to post again."))


@require_POST
@role_required(SUPERVISORS)
def discard_tweet(request: AgentRequest, tweet_id: int) -> HttpResponse:
    return _tweet_action(request, tweet_id, do_discard_tweet, _("Discarded."))


def _tweet_action(request: AgentRequest, tweet_id: int, action, done: str) -> HttpResponse:
    try:
        action(tweet_id, actor=request.agent)
    except BrandTweet.DoesNotExist:
        raise Http404(_("No such brand tweet.")) from None
    except ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("inbox:proposals_pending")


def _decision(request: AgentRequest, proposal_id: int, decide) -> HttpResponse:
    # Another brand's proposal, or none, is a 404 before anything else is said about it
    # (reject's "say why" came first, and under htmx then failed on the row: a 500).
    if not Proposal.objects.filter(id=proposal_id, brand_id=request.agent.brand_id).exists():
        raise Http404(_("No such proposal."))
    error = ""
    try:
        decide()
    except Proposal.DoesNotExist:
        raise Http404(_("No such proposal.")) from None
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
