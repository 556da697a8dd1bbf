"""The agent's queue, and "Claim next". Thin views: decorators say who, actions change,
templates render. Every view here is for active employees of the brand.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from agents.access import ANY_EMPLOYEE, AgentRequest, role_required
from agents.models import Agent
from inbox import actions, budgets, queries, rollups
from inbox.live import fragments
from inbox.live.fragments import live_version, unchanged_from_redis
from inbox.live.hub import View
from inbox.models import Brand, Source, Team, ThreadStatus
from inbox.routing import assign, teams
from inbox.rules.routing import LANGUAGES, language_name
from inbox.views import go
from twelp.prepared import Prepared, together

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
    status, source, team, lang = _filters(request.GET)
    after = queries.Cursor.decode(request.GET.get("after", ""))
    scope = _scope(agent, team, lang)

    def rows(version: str) -> dict[str, object]:
        return _queue_context(agent, status, after, source, version, scope, team)

    if after is not None:
        fragments.remember_brand(request)
        version = live_version(agent.brand_id)
        if request.htmx:
            return render(request, "inbox/queue.html#rows", rows(version))
        parts = fragments.render_parts(request, version, (QUEUE_TABS, QUEUE_LIVE), rows)
        return render(request, QUEUE, {"tabs": parts[QUEUE_TABS], "live": parts[QUEUE_LIVE]})
    slots = {"tabs": QUEUE_TABS, "live": QUEUE_LIVE}
    name = _name(agent, status, source, scope)
    return fragments.live_page(request, name, slots, rows, QUEUE)


def live_view(agent: Agent, params: QueryDict) -> View:
    """The queue's live part for the push process (inbox.views.push): the same shared
    render as the page's (`queue`), its first page, with the same filters."""
    status, source, team, lang = _filters(params)
    scope = _scope(agent, team, lang)
    name = _name(agent, status, source, scope)

    def render(agent: Agent) -> str:
        def rows(version: str) -> dict[str, object]:
            # The push process keeps a stream's Agent (and its brand) while it is open:
            # the brand is read again, as a request would (its outbox pause, its SLA).
            brand = _BRAND.first(agent.brand_id)
            if brand is None:  # deleted while the stream was open: the render fails
                raise Brand.DoesNotExist(f"brand {agent.brand_id} is gone")
            agent.brand = brand
            return _queue_context(agent, status, None, source, version, scope, team)

        request = fragments.request_for(agent)
        parts = (QUEUE_TABS, QUEUE_LIVE)  # one cache entry holds both, as the page's
        return fragments.shared_unpersonal(request, agent.brand_id, name, parts, rows)[QUEUE_LIVE]

    return View(name, render)


# The tab's word inside "3 more open from @leo" (the row's grouping mark), in the reader's
# language: the status code itself is not a word to show.
STATUS_WORDS = {
    ThreadStatus.OPEN: pgettext_lazy("more threads of a customer", "open"),
    ThreadStatus.CLAIMED: pgettext_lazy("more threads of a customer", "claimed"),
    ThreadStatus.ANSWERED: pgettext_lazy("more threads of a customer", "answered"),
    ThreadStatus.CLOSED: pgettext_lazy("more threads of a customer", "closed"),
    "mine": pgettext_lazy("more threads of a customer", "mine"),
}


def _filters(params: QueryDict) -> tuple[str, str, str, str]:
    """status, source id, team ("" the agent's teams, "all", or a team id), language."""
    status = params.get("status", ThreadStatus.OPEN)
    if status not in ThreadStatus.values and status != "mine":
        status = ThreadStatus.OPEN
    source = params.get("source", "")
    team = params.get("team", "")
    if team != "all" and not team.isdigit():
        team = ""
    lang = params.get("lang", "")
    return status, source if source.isdigit() else "", team, lang if lang in LANGUAGES else ""


def _scope(agent: Agent, team: str, lang: str) -> queries.Scope:
    """The agent's teams' threads by default (every team's for an agent in none); one
    team of the brand, or all, when asked."""
    if team == "all":
        return queries.Scope(lang=lang)
    if team:
        chosen = Team.objects.filter(id=int(team), brand_id=agent.brand_id).first()
        if chosen is not None:
            return queries.Scope((chosen.id,), chosen.is_default, lang)
    ids, no_team = teams.scope(agent)
    return queries.Scope(tuple(ids) if ids is not None else None, no_team, lang)


def _name(agent: Agent, status: str, source: str, scope: queries.Scope) -> tuple[object, ...]:
    # "Mine" is each agent's own; the other tabs are the same for everyone of a role who
    # sees the same teams and language.
    who = agent.id if status == "mine" else agent.role
    return ("queue", who, status, source, scope.teams, scope.no_team, scope.lang)


_BRAND = Prepared(lambda brand_id: Brand.objects.filter(id=brand_id))
_SOURCES = Prepared(lambda brand_id: Source.objects.filter(brand_id=brand_id).order_by("id"))


def _queue_context(
    agent: Agent,
    status: str,
    after: queries.Cursor | None,
    source_id: str,
    version: str,
    scope: queries.Scope,
    team: str,
) -> dict[str, object]:
    outbox = functools.partial(queries.outbox_state, agent.brand, version)
    if status != "mine" and after is None:
        # The first page: its sources, rows, counts and budgets in one round trip.
        sources, (threads, next_cursor), queue_counts, outbox = _first_page(
            agent, status, source_id, version, scope
        )
        source = next((s for s in sources if str(s.id) == source_id), None)
    else:
        sources = _SOURCES.all(agent.brand_id)
        source = next((s for s in sources if str(s.id) == source_id), None)
        # The rows as heads: each row is rendered only when what it shows changed
        # (inbox.templatetags.queue_rows).
        if status == "mine":
            threads, next_cursor = queries.mine_heads(agent), None
        else:
            threads, next_cursor = queries.queue_heads(
                agent.brand_id, status, after, source.id if source else None, scope
            )
        queue_counts = rollups.queue_counts(agent.brand)
    _group_by_customer(threads)
    counts = _tab_counts(queue_counts, source)
    filters = {"status": status} | ({"source": source.id} if source else {})
    filters |= ({"team": team} if team else {}) | ({"lang": scope.lang} if scope.lang else {})
    values: dict[str, object] = {
        "threads": threads,
        "status": status,
        "status_word": STATUS_WORDS[status],
        "statuses": [*ThreadStatus.choices, ("mine", gettext_lazy("Mine"))],
        "tab_counts": counts,
        "tab_counts_json": json.dumps(counts),
        "sources": sources,
        "source": source,
        "next_cursor": next_cursor.encode() if next_cursor else None,
        "filters": urlencode(filters),
        "keep": urlencode({k: v for k, v in filters.items() if k != "status"}),
        "teams": teams.brand_teams(agent.brand_id),
        "team": team,
        "lang": scope.lang,
        "lang_name": language_name(scope.lang) if scope.lang else "",
        "languages": _languages,  # read when the tabs are rendered (`_tabs`)
        "version": version,
        "paging": after is not None,
        # Read only where a template shows it (a page of rows does not).
        "outbox": outbox,
    }
    values["tabs_html"] = functools.partial(_tabs, values)  # read when the tabs are shown
    return values


QUEUE_TABS_BODY = f"{QUEUE}#tabs_body"
_COUNT = "tabcount0{}0placeholder"
_tabs_kept: dict[tuple[object, ...], str] = {}


def _tabs(values: dict[str, object]) -> SafeString:
    """The tabs (QUEUE_TABS_BODY): rendered once per process for each language and what
    they show but the counts (filters, sources, teams), which move with nearly every
    change and are put in here (a string replace, localized as the template would)."""
    source = values["source"]
    key = (
        translation.get_language(),
        values["status"],
        values["keep"],
        source.id if source else None,  # type: ignore[attr-defined]
        tuple((s.id, str(s)) for s in values["sources"]),  # type: ignore[attr-defined]
        tuple(values["teams"]),  # type: ignore[arg-type]
        values["team"],
        values["lang"],
    )
    counts: dict[str, int] = values["tab_counts"]  # type: ignore[assignment]
    html = _tabs_kept.get(key)
    if html is None:
        holes = values | {"tab_counts": {status: _COUNT.format(status) for status in counts}}
        html = render_to_string(QUEUE_TABS_BODY, holes)
        if len(_tabs_kept) > 1000:  # filters come and go: keep it bounded
            _tabs_kept.clear()
        _tabs_kept[key] = html
    for status, n in counts.items():
        html = html.replace(_COUNT.format(status), str(formats.localize(n)))
    return mark_safe(html)  # noqa: S308 - our own template's output, escaped when rendered


def _languages() -> list[tuple[str, str]]:
    """The language filter's choices, by their name in the reader's language."""
    return sorted(((c, language_name(c)) for c in LANGUAGES), key=lambda i: i[1])


def _group_by_customer(threads: list) -> None:
    """ "3 more from @leo": the first row of a customer on this page says how many more of
    theirs follow (`more_from`); those rows are marked `repeat`."""
    per_customer = Counter(thread.customer_id for thread in threads)
    seen: set[int] = set()
    for thread in threads:
        first = thread.customer_id not in seen
        seen.add(thread.customer_id)
        thread.more_from = per_customer[thread.customer_id] - 1 if first else 0
        thread.repeat = not first


def _first_page(
    agent: Agent, status: str, source_id: str, version: str, scope: queries.Scope
) -> tuple[list[Source], tuple[list, queries.Cursor | None], dict, Callable[[], list]]:
    """The sources, the first page's heads, the queue counts and the budgets (when not
    kept for this version yet), read together (twelp.prepared.together)."""
    brand = agent.brand
    budget_views, current = queries.kept_outbox_state(brand, version)
    wanted = int(source_id) if source_id.isdigit() else None
    reads = [
        _SOURCES.bound_all(brand.id),
        queries.first_heads_read(brand.id, status, wanted, scope),
        rollups.queue_counts_read(brand),
    ]
    if budget_views is None:
        reads += budgets.budgets_reads(brand)
    # Prepared (twelp.prepared): the heads' statement plans in more time than it runs.
    sources, heads, counts, *budget_rows = together(*reads, prepare=True)
    if wanted is not None and not any(str(s.id) == source_id for s in sources):
        # Not one of the brand's sources: the whole queue, as for no source.
        heads = queries.queue_heads(brand.id, status, None, None, scope)
    if budget_views is None:
        budget_views = budgets.views_of(*budget_rows, timezone.now())
        queries.keep_outbox_state(brand, version, current, budget_views)
    views = budget_views
    return sources, heads, counts, lambda: views


def _tab_counts(
    queue_counts: dict[tuple[int | None, str], int], source: Source | None
) -> dict[str, int]:
    """Threads per status for the tabs, from the trigger-kept counts (no scan of threads);
    closed is not counted (it only grows), nor "Mine" (per employee: the page is shared)."""
    counts = dict.fromkeys((ThreadStatus.OPEN, ThreadStatus.CLAIMED, ThreadStatus.ANSWERED), 0)
    for (source_id, status), n in queue_counts.items():
        if status in counts and (source is None or source_id == source.id):
            counts[status] += n
    return counts


# A Claim next that found nothing for its agent (inbox.routing.assign 4.).
IN_LINE = gettext_lazy(
    "The queue is clear: nothing is waiting for you. You are in line: the next "
    "thread of your teams comes to you."
)


@require_POST
@role_required(ANY_EMPLOYEE)
def claim_next(request: AgentRequest) -> HttpResponse:
    """Claim the first thread of the offer order and open it. From the queue page (htmx)
    a refusal or a clear queue is a toast and the page stays as it is, live, with its
    stream (no reload: at a burst of new mentions most of the crowd that clicks loses the
    race); a plain form (no JavaScript, the thread page's Next) gets the page with the
    message."""
    try:
        thread = actions.do_claim_next(agent=request.agent)
    except actions.ActionError as error:  # at their cap (inbox.routing.capacity)
        return _not_claimed(request, str(error), messages.ERROR)
    if thread is None:
        # Nothing for them right now: they join the line, and the next thread of their
        # teams comes to them (inbox.routing.assign 4.) instead of a race for each new row.
        joined = assign.do_join_line(request.agent)
        if not request.agent.available_once:  # Available already: work comes to them anyway
            clear = _("The queue is clear: nothing is waiting.")
            return _not_claimed(request, clear, messages.INFO)
        # Just joined: the page's Available form becomes "In line" (out of band: it stays).
        form = "inbox/queue.html#availability"
        html = render_to_string(form, {"oob": True}, request=request) if joined else ""
        return _not_claimed(request, str(IN_LINE), messages.INFO, html)
    return go(request, reverse("inbox:thread", args=[thread.id]))


def _not_claimed(request: AgentRequest, text: str, level: int, html: str = "") -> HttpResponse:
    if request.htmx:
        # The page shows it as a toast, as text (static/js/ui.js: twelp:toast).
        response = HttpResponse(html, status=200)
        tag = messages.DEFAULT_TAGS[level]
        return trigger_client_event(response, "twelp:toast", {"text": text, "level": tag})
    messages.add_message(request, level, text)
    return go(request, reverse("inbox:queue"))


@require_POST
@role_required(ANY_EMPLOYEE)
def availability(request: AgentRequest) -> HttpResponse:
    """Beside "Claim next": Available (threads of my teams come to me as I have room,
    inbox.routing.assign) or away (what was assigned and not opened goes back)."""
    on = request.POST.get("available") == "on"
    in_line = request.agent.available_once
    try:
        returned = assign.do_set_available(request.agent, available=on)
    except actions.ActionError as error:
        messages.error(request, str(error))
        return go(request, reverse("inbox:queue"))
    if on:
        messages.info(request, _("Available: threads of your teams come to you as you have room."))
    elif in_line:
        messages.info(request, _("You left the line: Claim next when you are ready."))
    else:
        said = _("Away: nothing more comes to you.")
        if returned:
            said += " " + ngettext(
                "%(returned)s unopened thread went back to the queue.",
                "%(returned)s unopened threads went back to the queue.",
                returned,
            ) % {"returned": returned}
        messages.info(request, said)
    return go(request, reverse("inbox:queue"))
