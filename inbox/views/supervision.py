"""Supervisors' pages: the live dashboard, the audit trail (list, CSV, a thread's timeline)
and the actions on stuck work (reassign, release, retry or discard a failed reply).

Every view is `role_required(SUPERVISORS)`; a thread, reply or employee of another brand
is a 404. The dashboard refreshes like the queue: a refresh carrying the current queue
version is answered 204 from Redis alone (`unchanged_from_redis`).
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from agents.access import SUPERVISORS, AgentRequest, access_agent, role_required
from agents.models import Agent, AgentState
from inbox import actions, budgets, figures, queries
from inbox.forms import AuditFilter
from inbox.live import fragments
from inbox.live.fragments import unchanged_from_redis
from inbox.live.hub import View
from inbox.models import Brand, Event, Reply, Team
from inbox.outbox import replies
from inbox.quality import review, survey
from inbox.routing import capacity
from inbox.rules import keyset
from inbox.views import acted
from inbox.views.throttle import throttled

AUDIT_PAGE = 50
CSV_BATCH = 2000
TIMELINE_LIMIT = 1000


def brand_tz(brand: Brand) -> ZoneInfo:
    try:
        return ZoneInfo(brand.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# --- the dashboard ------------------------------------------------------------------------


DASHBOARD_LIVE = "inbox/dashboard.html#live"
# Issue 14: the push process renders a brand's dashboard at most this often under change
# (inbox.live.hub, docstring 2). Its figures are the whole brand's, moved by nearly every
# change (several a second on a busy day), and it is the dearest render; a change waits
# at most this long for the next one, within the 1 s a change may take to reach a screen.
PUSH_EVERY_SECONDS = 0.5


@require_GET
@unchanged_from_redis
@role_required(SUPERVISORS)
@vary_on_headers("HX-Request")
def dashboard(request: AgentRequest) -> HttpResponse:
    """Its figures are read and rendered once per queue version (which carries the
    minute) and shared by the brand's supervisors through Redis (inbox.live.fragments)."""
    brand = request.agent.brand
    tz = brand_tz(brand)
    name = ("dashboard", request.agent.role)
    with timezone.override(tz):
        slots = {"live": DASHBOARD_LIVE}
        figures_now = partial(_figures, brand, tz)
        return fragments.live_page(request, name, slots, figures_now, "inbox/dashboard.html")


def live_view(agent: Agent, params: QueryDict) -> View:
    """The dashboard's live part for the push process (inbox.views.push): the same shared
    render as the page's."""
    name = ("dashboard", agent.role)

    def render(agent: Agent) -> str:
        tz = brand_tz(agent.brand)
        request = fragments.request_for(agent)
        figures_now = partial(_figures, agent.brand, tz)
        with timezone.override(tz):
            parts = fragments.shared_unpersonal(
                request, agent.brand_id, name, (DASHBOARD_LIVE,), figures_now
            )
        return parts[DASHBOARD_LIVE]

    return View(name, render, every=PUSH_EVERY_SECONDS)


def _figures(brand: Brand, tz: ZoneInfo, version: str) -> dict[str, object]:
    now = timezone.now()
    month = now - timedelta(days=30)
    # The budgets as the queue shows them for this version (read once for both), read
    # with the figures when not kept yet.
    budget_views, current = queries.kept_outbox_state(brand, version)
    also = (
        review.scores_read(brand, month),
        *survey.results_reads(brand, month, now),
        queries.latest_retention_read(brand),
    )
    if budget_views is None:
        also += budgets.budgets_reads(brand)
    # Every figure in one round trip (inbox.figures.build_with).
    board, found = figures.build_with(brand, now, budget_views=budget_views or [], also=also)
    reviews, survey_agents, survey_days, retention, *budget_rows = found
    if budget_views is None:
        budget_views = budgets.views_of(*budget_rows, now)
        queries.keep_outbox_state(brand, version, current, budget_views)
        board = dataclasses.replace(
            board, outbox=dataclasses.replace(board.outbox, budgets=budget_views)
        )
    return {
        "d": board,
        "quality": {
            "reviews": reviews,
            "satisfaction": survey.results_of(month, now, survey_agents, survey_days),
        },
        "chart": figures.hourly_chart(board.hours, tz),
        "tz": tz,
        "version": version,
        "refresh": settings.DASHBOARD_REFRESH_SECONDS,
        "retention": retention,
    }


# --- the audit trail ------------------------------------------------------------------------


def _agents(brand: Brand) -> list[Agent]:
    states = (AgentState.ACTIVE, AgentState.DEACTIVATED)
    return list(Agent.objects.filter(brand=brand, state__in=states).order_by("name", "id"))


def _teams(brand: Brand) -> dict[int, str]:
    """The brand's team names by id: the audit trail names a team, never its number."""
    return dict(Team.objects.filter(brand=brand).values_list("id", "name"))


@require_GET
@role_required(SUPERVISORS)
@vary_on_headers("HX-Request")
def audit(request: AgentRequest) -> HttpResponse:
    brand = request.agent.brand
    with timezone.override(brand_tz(brand)):
        form = AuditFilter(request.GET or None, agents=_agents(brand))
        rows = queries.audit_events(brand, form.filters()).select_related(
            "actor", "thread__customer"
        )
        after = keyset.decode(request.GET.get("after", ""), datetime, int)
        if after is not None:
            at, pk = after
            rows = rows.filter(Q(at__lt=at) | Q(at=at, id__lt=pk))
        page = list(rows.order_by("-at", "-id")[: AUDIT_PAGE + 1])
        more = len(page) > AUDIT_PAGE
        page = page[:AUDIT_PAGE]
        context = {
            "form": form,
            "events": page,
            "names": dict(Agent.objects.filter(brand=brand).values_list("id", "name")),
            "teams": _teams(brand),
            "next_cursor": keyset.encode(page[-1].at, page[-1].id) if more else None,
            "filters": form.query_string(),
            "paging": after is not None,
        }
        if request.htmx and after is not None:
            return render(request, "inbox/audit.html#rows", context)
        return render(request, "inbox/audit.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe_cell(value: object) -> str:
    """A spreadsheet must not run a tweet's text as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
@role_required(SUPERVISORS)
@throttled("audit_csv")
def audit_csv(request: AgentRequest) -> StreamingHttpResponse:
    """Every Event matching the filters, oldest first, streamed in keyset batches."""
    brand = request.agent.brand
    with timezone.override(brand_tz(brand)):
        form = AuditFilter(request.GET or None, agents=_agents(brand))
        rows = queries.audit_events(brand, form.filters()).select_related("actor")
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(["id", "at_utc", "verb", "actor_id", "actor", "thread_id", "detail"])
        last: tuple[datetime, int] | None = None
        while True:
            batch = rows
            if last is not None:
                batch = batch.filter(Q(at__gt=last[0]) | Q(at=last[0], id__gt=last[1]))
            chunk = list(batch.order_by("at", "id")[:CSV_BATCH])
            for event in chunk:
                actor = event.actor
                yield writer.writerow(
                    [
                        event.id,
                        event.at.astimezone(UTC).isoformat(),
                        event.verb,
                        event.actor_id or "",
                        _safe_cell(f"{actor.name} ^{actor.credit_code}" if actor else "system"),
                        event.thread_id or "",
                        _safe_cell(json.dumps(event.detail, sort_keys=True)),
                    ]
                )
            if len(chunk) < CSV_BATCH:
                return
            last = (chunk[-1].at, chunk[-1].id)

    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="twelp-events-{stamp}.csv"'
    return response


@require_GET
@role_required(SUPERVISORS)
def timeline(request: AgentRequest, thread_id: int) -> HttpResponse:
    """One thread's whole story, and what a supervisor can do about it."""
    thread = queries.access_thread(request.agent, thread_id)
    brand = request.agent.brand
    events = list(
        Event.objects.filter(thread=thread)
        .select_related("actor")
        .order_by("at", "id")[:TIMELINE_LIMIT]
    )
    replies = list(Reply.objects.filter(thread=thread).select_related("agent").order_by("id"))
    agents = [a for a in _agents(brand) if a.state == AgentState.ACTIVE]
    with timezone.override(brand_tz(brand)):
        return render(
            request,
            "inbox/audit_timeline.html",
            {
                "thread": thread,
                "events": events,
                "replies": replies,
                "agents": agents,
                "names": {a.id: a.name for a in _agents(brand)},
                "teams": _teams(brand),
            },
        )


# --- acting on stuck work --------------------------------------------------------------------


def _back(request: HttpRequest, thread_id: int) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("inbox:timeline", args=[thread_id])
    return redirect(target)


@require_POST
@role_required(SUPERVISORS)
def reassign(request: AgentRequest, thread_id: int) -> HttpResponse:
    queries.access_thread(request.agent, thread_id)
    try:
        to = access_agent(request.agent, int(request.POST.get("agent", "")))
    except (ValueError, Http404):
        messages.error(request, _("Choose an employee to hand the thread to."))
        return _back(request, thread_id)
    try:
        thread = actions.do_reassign(thread_id, to=to, actor=request.agent)
    except actions.ActionError as error:
        messages.error(request, str(error))
    else:
        held, limit = thread.held_by_assignee, capacity.cap(to)
        if held > limit:
            messages.warning(
                request,
                _(
                    "Reassigned to %(name)s, who now holds %(held)s threads: past their limit of "
                    "%(limit)s."
                )
                % {"name": to.name, "held": held, "limit": limit},
            )
        else:
            messages.success(request, _("Reassigned to %(name)s.") % {"name": to.name})
    return _back(request, thread_id)


@require_POST
@role_required(SUPERVISORS)
def release(request: AgentRequest, thread_id: int) -> HttpResponse:
    queries.access_thread(request.agent, thread_id)
    release = partial(actions.do_release, thread_id, agent=request.agent)
    acted(request, release, _("Released back to the queue."))
    return _back(request, thread_id)


def _reply_action(request: AgentRequest, reply_id: int, action, done: str) -> HttpResponse:
    reply = get_object_or_404(Reply, id=reply_id, thread__brand_id=request.agent.brand_id)
    acted(request, partial(action, reply_id, actor=request.agent), done)
    return _back(request, reply.thread_id)


@require_POST
@role_required(SUPERVISORS)
def retry_reply(request: AgentRequest, reply_id: int) -> HttpResponse:
    return _reply_action(request, reply_id, replies.do_retry_reply, _("Queued to post again."))


@require_POST
@role_required(SUPERVISORS)
def discard_reply(request: AgentRequest, reply_id: int) -> HttpResponse:
    return _reply_action(request, reply_id, replies.do_discard_reply, _("Discarded."))
