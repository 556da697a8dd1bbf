"""The thread page and what an agent does on it: claim, renew, reply, move to DM,
check a draft, close, release. Every view here is for active employees of the brand; a
thread of another brand is a 404 (`queries.access_thread`).
"""

from __future__ import annotations

import uuid
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agents.access import ANY_EMPLOYEE, AgentRequest, role_required
from agents.models import Agent
from inbox import actions, budgets, queries
from inbox.forms import NoteForm, ReplyForm
from inbox.ingest.context import context_for
from inbox.live import fragments, version
from inbox.live.hub import Banner, View
from inbox.models import Channel, Note, Thread, ThreadStatus
from inbox.rules import cost, pii
from inbox.rules.text import credit_for
from inbox.views import acted, go
from inbox.views.throttle import throttled


@require_GET
@role_required(ANY_EMPLOYEE)
def thread_page(request: AgentRequest, thread_id: int) -> HttpResponse:
    # Read before the thread: the page shows this change or newer, and its stream resumes
    # from it (inbox.live.hub, 11: no first render when nothing touched the thread since).
    since = version.newest(request.agent.brand_id)
    thread = queries.access_thread(request.agent, thread_id)
    if thread.assigned_at is not None and thread.claimed_by_id == request.agent.id:
        actions.do_start_assignment(thread_id, agent=request.agent)  # opened: theirs now
        thread.assigned_at = None
    reads = queries.page_reads(thread)  # read once for the whole page, in one round trip
    form = ReplyForm(initial=_reply_initial(thread, reads.said))
    return _render_thread(request, thread, form, reads=reads, push_since=since)


# What changes on the thread page, in page order: each part is one element with an id.
THREAD_PARTS = tuple(
    f"inbox/thread.html#{part}" for part in ("status", "banner", "conversation", "claim", "actions")
)


def live_view(agent: Agent, params: QueryDict) -> View:
    """The thread page's changing parts (THREAD_PARTS) for the push process
    (inbox.views.push), one message rendered for every employee of the brand who has it
    open, nothing per person in it (thread.html says how the page applies what is);
    refreshed only by changes of this thread. A thread of another brand, or none, is a 404."""
    thread_id = params.get("thread", "")
    if not thread_id.isdigit():
        raise Http404(_("No such thread."))
    queries.access_thread(agent, int(thread_id))
    name = ("thread", int(thread_id))

    def render(agent: Agent) -> str:
        def parts(version: str) -> dict[str, object]:
            thread = queries.access_thread(agent, int(thread_id))
            said, notes = queries.live_reads(thread)
            return _live_context(thread, said, notes, label=version) | {"shared": True}

        request = fragments.request_for(agent)
        found = fragments.shared_unpersonal(request, agent.brand_id, name, THREAD_PARTS, parts)
        return "\n".join(found[part].strip() for part in THREAD_PARTS)

    banner = Banner("outbox-banner", thread_banner, ("thread-banner",))
    return View(name, render, thread=int(thread_id), banner=banner)


def thread_banner(agent: Agent) -> str:
    """The banner of every thread page of the agent's brand (X's budgets, the waiting
    outbox), as the push process sends it alone after a brand-wide change."""
    request = fragments.request_for(agent)
    part = "inbox/thread.html#banner"
    found = fragments.shared_unpersonal(
        request,
        agent.brand_id,
        ("thread-banner",),
        (part,),
        lambda version: {"outbox": queries.outbox_state(agent.brand, version)},
    )
    return found[part].strip()


@require_GET
@role_required(ANY_EMPLOYEE)
@throttled("context")
def around(request: AgentRequest, thread_id: int) -> HttpResponse:
    """The tweets the customer replied to or quoted (inbox.ingest.context): fetched from X
    once and cached; loaded by the thread page after it shows."""
    thread = queries.access_thread(request.agent, thread_id)
    return render(request, "inbox/context.html", {"thread": thread, "around": context_for(thread)})


@require_POST
@role_required(ANY_EMPLOYEE)
def claim(request: AgentRequest, thread_id: int) -> HttpResponse:
    queries.access_thread(request.agent, thread_id)
    acted(request, partial(actions.do_claim, thread_id, agent=request.agent))
    return go(request, reverse("inbox:thread", args=[thread_id]))


@require_POST
@role_required(ANY_EMPLOYEE)
def renew(request: AgentRequest, thread_id: int) -> HttpResponse:
    """Called by the thread page every minute while it is open."""
    queries.access_thread(request.agent, thread_id)
    try:
        actions.do_renew(thread_id, agent=request.agent)
    except actions.ActionError as error:
        return render(request, "inbox/thread.html#lease_lost", {"error": str(error)})
    return HttpResponse(status=204)


@require_POST
@role_required(ANY_EMPLOYEE)
@throttled("posts")
def reply(request: AgentRequest, thread_id: int) -> HttpResponse:
    thread = queries.access_thread(request.agent, thread_id)
    form = ReplyForm(request.POST)
    warning, newer = None, None
    if form.is_valid():
        try:
            sent = actions.do_send_reply(
                thread_id,
                agent=request.agent,
                text=form.cleaned_data["text"],
                client_token=form.cleaned_data["client_token"],
                confirmed_personal_data=form.cleaned_data["confirm_personal_data"],
                written_against=form.cleaned_data["written_against"],
            )
        except actions.NewerMessage as error:
            # Held: the new messages shown above the kept text; sending again confirms.
            form = _written_against(request.POST, error.latest)
            form.add_error(None, str(error))
            newer = error.messages
        except pii.PersonalData as error:
            form.add_error(None, str(error))
            warning = error  # the page offers "send anyway" for exactly these findings
        except actions.ActionError as error:
            form.add_error(None, str(error))
        else:
            if request.POST.get("then") == "close":  # "Send & close"
                return _close_after_sending(request, thread)
            goes = budgets.estimate(sent, timezone.now()).label
            messages.success(
                request,
                _("Sent from @%(handle)s with your credit: it goes out %(goes)s.")
                % {"handle": thread.brand.handle, "goes": goes},
            )
            return go(request, reverse("inbox:thread", args=[thread_id]))
    thread.refresh_from_db()
    # 200 with the text kept: htmx swaps it
    return _render_thread(request, thread, form, pii_warning=warning, newer=newer)


def _written_against(data: QueryDict, latest: int) -> ReplyForm:
    """The posted form, now written against `latest` (the agent has been shown it)."""
    data = data.copy()
    data["written_against"] = str(latest)
    form = ReplyForm(data)
    form.is_valid()
    return form


def _close_after_sending(request: AgentRequest, thread: Thread) -> HttpResponse:
    """The reply is queued (the outbox posts it after commit); the thread closes now and
    the agent goes back to the queue. If closing is refused, the reply still goes out."""
    try:
        actions.do_close(thread.id, agent=request.agent)
    except actions.ActionError as error:
        messages.error(request, _("Sent, but not closed: %(error)s") % {"error": error})
        return go(request, reverse("inbox:thread", args=[thread.id]))
    brand, customer = thread.brand.handle, thread.customer.handle
    messages.success(
        request,
        _("Sent from @%(brand)s with your credit, and closed @%(customer)s's thread.")
        % {"brand": brand, "customer": customer},
    )
    return go(request, reverse("inbox:queue"))


@require_POST
@role_required(ANY_EMPLOYEE)
@throttled("posts")
def move_to_dm(request: AgentRequest, thread_id: int) -> HttpResponse:
    """Send the reply box's text privately by DM; a short public note answers here."""
    thread = queries.access_thread(request.agent, thread_id)
    form = ReplyForm(request.POST)
    newer = None
    if form.is_valid():
        try:
            sent = actions.do_move_to_dm(
                thread_id,
                agent=request.agent,
                text=form.cleaned_data["text"],
                client_token=form.cleaned_data["client_token"],
                written_against=form.cleaned_data["written_against"],
            )
        except actions.NewerMessage as error:
            form = _written_against(request.POST, error.latest)
            form.add_error(None, str(error))
            newer = error.messages
        except actions.ActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Sent to @%(handle)s by DM; a short public note tells them so once X has the DM.")
                % {"handle": thread.customer.handle},
            )
            return go(request, reverse("inbox:thread", args=[sent.thread_id]))
    thread.refresh_from_db()
    return _render_thread(request, thread, form, newer=newer)  # 200, text kept: htmx swaps it


@require_POST
@role_required(ANY_EMPLOYEE)
@throttled("reply_check")
def check_reply(request: AgentRequest, thread_id: int) -> HttpResponse:
    """While the agent types: what in the draft looks like personal data (inbox.rules.pii),
    and what X will charge for it (inbox.rules.cost)."""
    thread = queries.access_thread(request.agent, thread_id)
    text = request.POST.get("text", "")[:2000]
    findings = pii.find(text) if thread.channel == Channel.TWEET else []
    context = {"findings": findings, "cost": _cost(thread, text)}
    return render(request, "inbox/thread.html#pii_live", context)


def _cost(thread: Thread, text: str) -> cost.CostClass:
    """An answer's cost class: a reply to the customer's post (or a DM), a URL in it
    making it a post with a URL."""
    dm = thread.channel == Channel.DM
    return cost.cost_class(text, dm=dm, reply=True, prices=cost.current_prices())


@require_POST
@role_required(ANY_EMPLOYEE)
def close(request: AgentRequest, thread_id: int) -> HttpResponse:
    queries.access_thread(request.agent, thread_id)
    if acted(request, partial(actions.do_close, thread_id, agent=request.agent), _("Closed.")):
        return go(request, reverse("inbox:queue"))
    return go(request, reverse("inbox:thread", args=[thread_id]))


@require_POST
@role_required(ANY_EMPLOYEE)
def follow_up(request: AgentRequest, thread_id: int) -> HttpResponse:
    """The last answerer claims an answered thread again to add a follow-up."""
    queries.access_thread(request.agent, thread_id)
    acted(
        request,
        partial(actions.do_claim_follow_up, thread_id, agent=request.agent),
        _("Claimed for a follow-up: it posts in reply to the customer."),
        level=messages.info,
    )
    return go(request, reverse("inbox:thread", args=[thread_id]))


@require_POST
@role_required(ANY_EMPLOYEE)
def reopen(request: AgentRequest, thread_id: int) -> HttpResponse:
    """A supervisor or the last answerer puts a closed thread back in the queue."""
    queries.access_thread(request.agent, thread_id)
    reopen = partial(actions.do_reopen, thread_id, agent=request.agent)
    acted(request, reopen, _("Reopened: back in the queue."), level=messages.info)
    return go(request, reverse("inbox:thread", args=[thread_id]))


@require_POST
@role_required(ANY_EMPLOYEE)
def release(request: AgentRequest, thread_id: int) -> HttpResponse:
    queries.access_thread(request.agent, thread_id)
    release = partial(actions.do_release, thread_id, agent=request.agent)
    if acted(request, release, _("Released back to the queue."), level=messages.info):
        return go(request, reverse("inbox:queue"))
    return go(request, reverse("inbox:thread", args=[thread_id]))


def _reply_initial(thread: Thread, said: queries.Conversation) -> dict[str, object]:
    """A public reply starts with the customer's @handle and everyone else who wrote in
    it; a DM starts empty (it goes to the customer alone)."""
    kept = queries.failed_text(thread, said)  # X refused the last answer: its words come back
    against = {"written_against": queries.latest_message_id(thread, said)}  # "@kim wrote again"
    if thread.channel == Channel.DM:
        return {"text": kept, "client_token": uuid.uuid4()} | against
    handles = queries.participants(thread, said)
    if kept.startswith("@"):
        return {"text": kept, "client_token": uuid.uuid4()} | against
    text = " ".join(f"@{h}" for h in handles) + " " + kept
    return {"text": text, "client_token": uuid.uuid4()} | against


def _render_thread(
    request: AgentRequest,
    thread: Thread,
    form: ReplyForm,
    *,
    pii_warning: pii.PersonalData | None = None,
    reads: queries.PageReads | None = None,
    newer: list[object] | None = None,
    push_since: str = "",
) -> HttpResponse:
    agent = request.agent
    reads = reads if reads is not None else queries.page_reads(thread)
    said = reads.said
    context = _live_context(thread, said, reads.notes) | {
        "pii_warning": pii_warning,
        "newer": newer,
        "note_form": NoteForm(),
        "panel": reads.panel,
        "joiners": reads.joiners,
        "form": form,
        "mine": thread.status == ThreadStatus.CLAIMED and thread.claimed_by_id == agent.id,
        "can_close": actions.can_close(agent, thread),
        "credit": credit_for(agent),
        "public_refusal": queries.public_reply_refusal(thread, said),
        "renew_seconds": settings.CLAIM_RENEW_SECONDS,
        "cost": _cost(thread, str(form["text"].value() or "")),
        # The top bar's unread count comes with the page's push stream (its `notices`
        # event when it opens) or ui.js's poll, as on the queue: one query less per load.
        "notices_deferred": True,
        "push_since": push_since,
    }
    template = "inbox/thread.html#reply_form" if request.htmx and form.is_bound else None
    return fragments.render_personal(request, template or "inbox/thread.html", context)


def _live_context(
    thread: Thread,
    said: queries.Conversation,
    notes: list[Note],
    *,
    label: str | None = None,
) -> dict[str, object]:
    """What the page's changing parts show, the same for every employee of the brand. The
    brand as the thread was just read with it (the push process keeps its Agent rows, and
    their brand, for as long as a stream is open)."""
    return {
        "thread": thread,
        "conversation": _timeline(said, notes),
        "closers": actions.closers(thread),
        "outbox": queries.outbox_state(thread.brand, label),
    }


def _timeline(said: queries.Conversation, notes: list[Note]) -> list[object]:
    """The conversation with the internal notes in between, by time."""
    for note in notes:
        note.is_note = True
    items = [*said, *notes]
    return sorted(items, key=lambda item: getattr(item, "sent_at", None) or item.created_at)
