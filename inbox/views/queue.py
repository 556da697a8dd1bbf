"""The agent's queue, and "Claim next". Thin views: decorators say who, actions change,
templates render. Every view here is for active employees of the brand.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from agents.access import ANY_EMPLOYEE, AgentRequest, role_required
from agents.models import Agent
from inbox import actions, queries
from inbox.live import fragments
from inbox.live.fragments import live_version, unchanged_from_redis
from inbox.live.hub import View
from inbox.models import Brand, Source, ThreadStatus
from inbox.views import go

QUEUE = "inbox/queue.html"
QUEUE_TABS = f"{QUEUE}#tabs"
QUEUE_LIVE = f"{QUEUE}#live"


@require_GET
@unchanged_from_redis
@role_required(ANY_EMPLOYEE)
@vary_on_headers("HX-Request")
def queue(request: AgentRequest) -> HttpResponse:
    """The queue. Its first page (tabs and rows) is rendered once per queue version and
    shared through Redis (inbox.live.fragments); pages further down are rendered each time."""
    agent = request.agent
    status, source = _filters(request.GET)
    after = queries.Cursor.decode(request.GET.get("after", ""))

    def rows(version: str) -> dict[str, object]:
        return _queue_context(agent, status, after, source, version)

    if after is not None:
        fragments.remember_brand(request)
        version = live_version(agent.brand_id)
        if request.htmx:
            return render(request, "inbox/queue.html#rows", rows(version))
        parts = fragments.render_parts(request, version, (QUEUE_TABS, QUEUE_LIVE), rows)
        return render(request, QUEUE, {"tabs": parts[QUEUE_TABS], "live": parts[QUEUE_LIVE]})
    slots = {"tabs": QUEUE_TABS, "live": QUEUE_LIVE}
    return fragments.live_page(request, _name(agent, status, source), slots, rows, QUEUE)


def live_view(agent: Agent, params: QueryDict) -> View:
    """The queue's live part for the push process (inbox.views.push): the same shared
    render as the page's (`queue`), its first page, with the same filters."""
    status, source = _filters(params)
    name = _name(agent, status, source)

    def render(agent: Agent) -> str:
        def rows(version: str) -> dict[str, object]:
            # The push process keeps a stream's Agent (and its brand) while it is open:
            # the brand is read again, as a request would (its outbox pause, its SLA).
            agent.brand = Brand.objects.get(id=agent.brand_id)
            return _queue_context(agent, status, None, source, version)

        request = fragments.request_for(agent)
        parts = (QUEUE_TABS, QUEUE_LIVE)  # one cache entry holds both, as the page's
        return fragments.shared_unpersonal(request, agent.brand_id, name, parts, rows)[QUEUE_LIVE]

    return View(name, render)


def _filters(params: QueryDict) -> tuple[str, str]:
    status = params.get("status", ThreadStatus.OPEN)
    if status not in ThreadStatus.values and status != "mine":
        status = ThreadStatus.OPEN
    source = params.get("source", "")
    return status, source if source.isdigit() else ""


def _name(agent: Agent, status: str, source: str) -> tuple[object, ...]:
    # "Mine" is each agent's own; the other tabs are the same for everyone of a role.
    who = agent.id if status == "mine" else agent.role
    return ("queue", who, status, source)


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
        "filters": urlencode({"status": status} | ({"source": source.id} if source else {})),
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
