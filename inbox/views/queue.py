"""The agent's queue, and "Claim next". Thin views: decorators say who, actions change,
templates render. Every view here is for active employees of the brand.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from agents.access import ANY_EMPLOYEE, AgentRequest, role_required
from agents.models import Agent
from inbox import actions, queries
from inbox.live import fragments
from inbox.live.fragments import live_version, unchanged_from_redis
from inbox.models import Source, ThreadStatus
from inbox.views import go

QUEUE_TABS = "inbox/queue.html#tabs"
QUEUE_LIVE = "inbox/queue.html#live"


@require_GET
@unchanged_from_redis
@role_required(ANY_EMPLOYEE)
@vary_on_headers("HX-Request")
def queue(request: AgentRequest) -> HttpResponse:
    """The queue. Its first page (tabs and rows) is rendered once per queue version and
    shared through Redis (inbox.live.fragments); pages further down are rendered each time."""
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
        version = live_version(agent.brand_id)
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
        return go(request, reverse("inbox:queue"))
    return go(request, reverse("inbox:thread", args=[thread.id]))
