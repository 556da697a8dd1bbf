"""Answer review (inbox.quality.review): supervisors sample posted answers and score them."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from agents.access import SUPERVISORS, AgentRequest, role_required
from agents.models import Agent, AgentState
from inbox import queries
from inbox.errors import ActionError
from inbox.forms import ReviewForm, SampleForm
from inbox.models import AnswerReview, Reply
from inbox.quality import review


@require_GET
@role_required(SUPERVISORS)
def sample_page(request: AgentRequest) -> HttpResponse:
    """The sampling form; with `sample=1`, a random sample of unreviewed answers."""
    agents = list(
        Agent.objects.filter(brand_id=request.agent.brand_id, state=AgentState.ACTIVE).order_by(
            "name", "id"
        )
    )
    form = SampleForm(request.GET if "sample" in request.GET else None, agents=agents)
    sampled = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        sampled = review.sample(
            request.agent,
            agent_id=data["agent"],
            days=data["days"] or 7,
            channel=data["channel"],
            count=data["count"] or 10,
        )
    latest = list(
        AnswerReview.objects.filter(brand_id=request.agent.brand_id)
        .select_related("agent", "reviewer")
        .order_by("-created_at", "-id")[:20]
    )
    context = {"form": form, "sampled": sampled, "latest": latest}
    return render(request, "inbox/review_sample.html", context)


@require_http_methods(["GET", "POST"])
@role_required(SUPERVISORS)
def review_answer(request: AgentRequest, reply_id: int) -> HttpResponse:
    """One answer in its conversation, and the rubric (or the review it has)."""
    try:
        answer = review.answer_for_review(request.agent, reply_id)
    except Reply.DoesNotExist:
        raise Http404(_("No such answer.")) from None
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review.do_review(answer.id, reviewer=request.agent, **form.cleaned_data)
        except ActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Reviewed %(name)s's answer.") % {"name": answer.agent.name}
            )
            if answer.thread.brand_id != request.agent.brand_id:  # a trainee's practice
                return redirect("agents:practice_review", answer.agent_id)
            return redirect("inbox:review")
    try:
        existing = answer.review
    except AnswerReview.DoesNotExist:
        existing = None
    context = {
        "answer": answer,
        "thread": answer.thread,
        "conversation": queries.conversation(answer.thread),
        "form": form,
        "existing": existing,
        "rubric": review.RUBRIC,
    }
    return render(request, "inbox/review_answer.html", context)
