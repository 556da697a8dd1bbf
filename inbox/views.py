"""The agent's inbox. Thin views: decorators say who, actions change, templates render.

Every view here is for active employees of the brand (`role_required(ANY_EMPLOYEE)`);
a thread of another brand is a 404 (`access_thread`).
"""

from __future__ import annotations

import uuid
from functools import wraps

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from agents.access import ANY_EMPLOYEE, AgentRequest, role_required
from agents.models import Agent
from inbox import actions, customers, dms, fragments, live, pii, queries
from inbox.forms import NoteForm, ReplyForm
from inbox.models import Channel, Note, Source, Thread, ThreadStatus
from inbox.text import credit_for


def _live_version(brand_id: int) -> str:
    # The minute is part of the version so "waiting 5 min" labels refresh while idle.
    return live.label(live.version(brand_id))


def unchanged_from_redis(view):
    """A live refresh carrying the current version gets 204 from Redis alone.

    Only the session (in Redis) and the queue version (in Redis) are read: no PostgreSQL.
    A session holds a brand id only once the queue was served to a logged-in agent, and the
    answer reveals nothing, so this may run before the login check.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        have = request.GET.get("v")
        brand_id = request.session.get("brand_id") if have else None
        if brand_id and have == _live_version(brand_id):
            return HttpResponse(status=204)
        return view(request, *args, **kwargs)

    return wrapper


QUEUE_TABS = "inbox/queue.html#tabs"
QUEUE_LIVE = "inbox/queue.html#live"


@require_GET
@unchanged_from_redis
@role_required(ANY_EMPLOYEE)
@vary_on_headers("HX-Request")
def queue(request: AgentRequest) -> HttpResponse:
    """The queue. Its first page (tabs and rows) is rendered once per queue version and
    shared through Redis (inbox.fragments); pages further down are rendered each time."""
    agent = request.agent
    if request.session.get("brand_id") != agent.brand_id:
        request.session["brand_id"] = agent.brand_id
    status = request.GET.get("status", ThreadStatus.OPEN)
    if status not in ThreadStatus.values and status != "mine":
        status = ThreadStatus.OPEN
    after = queries.Cursor.decode(request.GET.get("after", ""))
    source = request.GET.get("source", "")
    source = source if source.isdigit() else ""

    def rows(version: str) -> dict[str, object]:
        return _queue_context(agent, status, after, source, version)

    if after is not None:
        version = _live_version(agent.brand_id)
        if request.htmx:
            return render(request, "inbox/queue.html#rows", rows(version))
        parts = fragments.render_parts(request, version, (QUEUE_TABS, QUEUE_LIVE), rows)
        return render(
            request, "inbox/queue.html", {"tabs": parts[QUEUE_TABS], "live": parts[QUEUE_LIVE]}
        )
    # "Mine" is each agent's own; the other tabs are the same for everyone of a role.
    who = agent.id if status == "mine" else agent.role
    name = ("queue", who, status, source)
    if request.htmx:
        live_part = fragments.shared(request, agent.brand_id, name, (QUEUE_TABS, QUEUE_LIVE), rows)
        return HttpResponse(live_part[QUEUE_LIVE])
    slots = {"tabs": QUEUE_TABS, "live": QUEUE_LIVE}
    return fragments.page(request, agent.brand_id, name, slots, rows, "inbox/queue.html")


def _queue_context(
    agent: Agent, status: str, after: queries.Cursor | None, source_id: str, version: str
) -> dict[str, object]:
    sources = list(Source.objects.filter(brand=agent.brand).order_by("id"))
    source = next((s for s in sources if str(s.id) == source_id), None)
    if status == "mine":
        threads, next_cursor = queries.claimed_by(agent), None
    else:
        threads, next_cursor = queries.queue_page(
            agent.brand, status, after, source.id if source else None
        )
    return {
        "threads": threads,
        "status": status,
        "statuses": [*ThreadStatus.choices, ("mine", "Mine")],
        "sources": sources,
        "source": source,
        "next_cursor": next_cursor.encode() if next_cursor else None,
        "version": version,
        "paging": after is not None,
        "outbox": queries.outbox_state(agent.brand),
    }


@require_POST
@role_required(ANY_EMPLOYEE)
def claim_next(request: AgentRequest) -> HttpResponse:
    thread = actions.do_claim_next(agent=request.agent)
    if thread is None:
        messages.info(request, "The queue is clear: nothing is waiting.")
        return _go(request, reverse("inbox:queue"))
    return _go(request, reverse("inbox:thread", args=[thread.id]))


@require_GET
@role_required(ANY_EMPLOYEE)
def thread_page(request: AgentRequest, thread_id: int) -> HttpResponse:
    thread = queries.access_thread(request.agent, thread_id)
    return _render_thread(request, thread, ReplyForm(initial=_reply_initial(thread)))


@require_POST
@role_required(ANY_EMPLOYEE)
def claim(request: AgentRequest, thread_id: int) -> HttpResponse:
    queries.access_thread(request.agent, thread_id)
    try:
        actions.do_claim(thread_id, agent=request.agent)
    except actions.ActionError as error:
        messages.error(request, str(error))
    return _go(request, reverse("inbox:thread", args=[thread_id]))


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
def reply(request: AgentRequest, thread_id: int) -> HttpResponse:
    thread = queries.access_thread(request.agent, thread_id)
    form = ReplyForm(request.POST)
    warning = None
    if form.is_valid():
        try:
            actions.do_send_reply(
                thread_id,
                agent=request.agent,
                text=form.cleaned_data["text"],
                client_token=form.cleaned_data["client_token"],
                confirmed_personal_data=form.cleaned_data["confirm_personal_data"],
            )
        except pii.PersonalData as error:
            form.add_error(None, str(error))
            warning = error  # the page offers "send anyway" for exactly these findings
        except actions.ActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Sent from @{thread.brand.handle} with your credit.")
            return _go(request, reverse("inbox:thread", args=[thread_id]))
    thread.refresh_from_db()
    # 200 with the text kept: htmx swaps it
    return _render_thread(request, thread, form, pii_warning=warning)


@require_POST
@role_required(ANY_EMPLOYEE)
def move_to_dm(request: AgentRequest, thread_id: int) -> HttpResponse:
    """Send the reply box's text privately by DM; a short public note answers here."""
    thread = queries.access_thread(request.agent, thread_id)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            sent = actions.do_move_to_dm(
                thread_id,
                agent=request.agent,
                text=form.cleaned_data["text"],
                client_token=form.cleaned_data["client_token"],
            )
        except actions.ActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"Sent to @{thread.customer.handle} by DM; a short public note tells them so "
                "once X has the DM.",
            )
            return _go(request, reverse("inbox:thread", args=[sent.thread_id]))
    thread.refresh_from_db()
    return _render_thread(request, thread, form)  # 200 with the text kept: htmx swaps it


@require_POST
@role_required(ANY_EMPLOYEE)
def check_reply(request: AgentRequest, thread_id: int) -> HttpResponse:
    """While the agent types: what in the draft looks like personal data (inbox.pii)."""
    thread = queries.access_thread(request.agent, thread_id)
    text = request.POST.get("text", "")[:2000]
    findings = pii.find(text) if thread.channel == Channel.TWEET else []
    return render(request, "inbox/thread.html#pii_live", {"findings": findings})


@require_POST
@role_required(ANY_EMPLOYEE)
def close(request: AgentRequest, thread_id: int) -> HttpResponse:
    queries.access_thread(request.agent, thread_id)
    try:
        actions.do_close(thread_id, agent=request.agent)
    except actions.ActionError as error:
        messages.error(request, str(error))
        return _go(request, reverse("inbox:thread", args=[thread_id]))
    messages.success(request, "Closed.")
    return _go(request, reverse("inbox:queue"))


@require_POST
@role_required(ANY_EMPLOYEE)
def release(request: AgentRequest, thread_id: int) -> HttpResponse:
    queries.access_thread(request.agent, thread_id)
    try:
        actions.do_release(thread_id, agent=request.agent)
    except actions.ActionError as error:
        messages.error(request, str(error))
        return _go(request, reverse("inbox:thread", args=[thread_id]))
    messages.info(request, "Released back to the queue.")
    return _go(request, reverse("inbox:queue"))


def _go(request: HttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _reply_initial(thread: Thread) -> dict[str, object]:
    """A public reply starts with the customer's @handle and everyone else who wrote in
    it; a DM starts empty (it goes to the customer alone)."""
    kept = dms.failed_text(thread)  # X refused the last answer: its words come back
    if thread.channel == Channel.DM:
        return {"text": kept, "client_token": uuid.uuid4()}
    handles = queries.participants(thread)
    if kept.startswith("@"):
        return {"text": kept, "client_token": uuid.uuid4()}
    text = " ".join(f"@{h}" for h in handles) + " " + kept
    return {"text": text, "client_token": uuid.uuid4()}


def _render_thread(
    request: AgentRequest,
    thread: Thread,
    form: ReplyForm,
    *,
    pii_warning: pii.PersonalData | None = None,
) -> HttpResponse:
    agent = request.agent
    context = {
        "pii_warning": pii_warning,
        "thread": thread,
        "conversation": _timeline(thread),
        "note_form": NoteForm(),
        "panel": customers.panel(thread),
        "form": form,
        "mine": thread.status == ThreadStatus.CLAIMED and thread.claimed_by_id == agent.id,
        "credit": credit_for(agent),
        "outbox": queries.outbox_state(agent.brand),
    }
    template = "inbox/thread.html#reply_form" if request.htmx and form.is_bound else None
    return render(request, template or "inbox/thread.html", context)


def _timeline(thread: Thread) -> list[object]:
    """The conversation with the internal notes in between, by time."""
    notes = list(Note.objects.filter(thread=thread).select_related("agent").order_by("id")[:200])
    for note in notes:
        note.is_note = True
    items = [*queries.conversation(thread), *notes]
    return sorted(items, key=lambda item: getattr(item, "sent_at", None) or item.created_at)
