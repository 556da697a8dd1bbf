"""/api/v1/: the routes. Thin, as every view: the token's brand, one read or action.

The OpenAPI schema is served at /api/v1/openapi.json (stable). No interactive docs page:
its script would come from a CDN, which the Content-Security-Policy refuses.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from agents.models import Agent
from inbox import actions, customers, queries
from inbox.api import problems
from inbox.api.auth import TokenAuth, token_of, writer
from inbox.api.problems import Problem
from inbox.api.schemas import (
    CustomerOut,
    CustomerPage,
    EventPage,
    NoteIn,
    NoteOut,
    SatisfactionOut,
    SearchPage,
    TagIn,
    TagsOut,
    ThreadDetail,
    ThreadPage,
)
from inbox.errors import ActionError
from inbox.forms import SearchForm
from inbox.models import (
    ApiToken,
    Channel,
    Customer,
    Event,
    Message,
    Note,
    Reply,
    Source,
    Thread,
    ThreadStatus,
)
from inbox.quality import survey
from inbox.search import find

api = NinjaAPI(
    title="Twelp API",
    version="1",
    description=(
        "Read threads, customers and the audit trail of one brand; add notes and tags. "
        "Authenticate with `Authorization: Bearer twl_...` (an admin creates tokens on "
        "/integrations/). Errors are RFC 9457 problem bodies."
    ),
    urls_namespace="api-v1",
    docs_url=None,
    auth=TokenAuth(),
)

_BOOLEAN = {"": False, "false": False, "0": False, "true": True, "1": True}
EVENTS_MAX = 500
CUSTOMERS_PAGE = 50


@api.exception_handler(Problem)
def _problem(request: HttpRequest, error: Problem) -> HttpResponse:
    answer = problems.response(error.status, error.detail, **error.extra)
    if "retry_after" in error.extra:
        answer["Retry-After"] = str(error.extra["retry_after"])
    return answer


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, error: Exception) -> HttpResponse:
    return problems.response(401, "Send an API token: Authorization: Bearer twl_...")


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, error: ValidationError) -> HttpResponse:
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in error.errors
    ]
    return problems.response(422, "The request's input is not valid.", errors=errors)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Exception) -> HttpResponse:
    return problems.response(404, str(error) or "Not found.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    return problems.response(error.status_code, str(error))


def _threads(token: ApiToken) -> QuerySet[Thread]:
    """The threads a token may see: its brand's; DM threads only for a `dms` token (a DM
    thread is then a 404 like another brand's, a number that names nothing)."""
    rows = Thread.objects.filter(brand_id=token.brand_id)
    return rows if token.dms else rows.exclude(channel=Channel.DM)


def _thread(request: HttpRequest, thread_id: int) -> Thread:
    thread = (
        _threads(token_of(request)).select_related("customer", "claimed_by").filter(id=thread_id)
    ).first()
    if thread is None:
        raise Http404(_("No such thread."))
    return thread


# --- threads ---------------------------------------------------------------------------


@api.get("/threads", response=ThreadPage, url_name="threads", tags=["threads"])
def list_threads(
    request: HttpRequest,
    status: ThreadStatus = ThreadStatus.OPEN,
    source: int | None = None,
    after: str = "",
) -> dict[str, object]:
    """The queue of one status, most urgent first (the agents' order), 50 a page; `source`
    narrows it to one source (mentions, a listening query). Keyset paged: `next`."""
    token = token_of(request)
    cursor = queries.Cursor.decode(after) if after else None
    if after and cursor is None:
        raise Problem(400, "`after` is not a cursor this API gave out.")
    scope = None if token.dms else queries.Scope(no_dms=True)
    page, following = queries.queue_page(token.brand, status, cursor, source, scope)
    return {"threads": page, "next": following.encode() if following else None}


@api.get("/threads/{int:thread_id}", response=ThreadDetail, url_name="thread", tags=["threads"])
def read_thread(request: HttpRequest, thread_id: int) -> Thread:
    """One thread with its messages (in and out), replies (every status) and notes: four
    queries."""
    thread = (
        _threads(token_of(request))
        .select_related("customer", "claimed_by")
        .prefetch_related(
            Prefetch("messages", Message.objects.order_by("sent_at", "x_id")),
            Prefetch("replies", Reply.objects.select_related("agent").order_by("created_at", "id")),
            Prefetch("notes", Note.objects.select_related("agent").order_by("created_at", "id")),
        )
        .filter(id=thread_id)
        .first()
    )
    if thread is None:
        raise Http404(_("No such thread."))
    return thread


# --- search ----------------------------------------------------------------------------


@api.get("/search", response=SearchPage, url_name="search", tags=["search"])
def search(
    request: HttpRequest,
    q: str = "",
    status: str = "",
    channel: str = "",
    source: str = "",
    agent: str = "",
    customer: str = "",
    since: str = "",
    until: str = "",
    has_image: str = "",
    lang: str = "",
    after: str = "",
) -> dict[str, object]:
    """The app's search (inbox.search) over the token's brand: customers' messages, our
    replies and internal notes, newest first, 25 a page, and the customers whose handle
    or name matches. `q` as the search box takes it: words ("quoted phrases", OR, -not),
    @handles, #tags; at most 200 characters. `status`: open, claimed, answered, closed;
    `channel`: tweet, dm; `lang`: X's language code (en, es, ...); `source`, `agent`,
    `customer`: ids of the brand's; `since`/`until`: days (YYYY-MM-DD) in the brand's
    time zone, inclusive; `has_image`: true or false. DMs only for a token made with DMs.
    Keyset paged: `next`. Input that cannot be searched is a 400 problem naming each
    parameter (the page's own checks, inbox.forms.SearchForm)."""
    token = token_of(request)
    if channel == Channel.DM and not token.dms:
        raise Problem(403, "This API token does not read direct messages.")
    image = _BOOLEAN.get(has_image.lower())
    if image is None:
        raise Problem(400, "`has_image` is true or false.")
    data = {"q": q, "status": status, "channel": channel, "source": source, "agent": agent}
    data |= {"customer": customer, "since": since, "until": until, "has_image": image}
    data["lang"] = lang
    # the form's lists hold only the ids asked for, when they are the brand's
    form = SearchForm(
        data,
        agents=_named(Agent.objects.filter(brand_id=token.brand_id), agent),
        sources=_named(Source.objects.filter(brand_id=token.brand_id), source),
        brand_id=token.brand_id,
    )
    if not form.is_valid():
        errors = [{"loc": ["query", k], "msg": m} for k, ms in form.errors.items() for m in ms]
        raise Problem(400, " ".join(e["msg"] for e in errors), errors=errors)
    cursor = find.Cursor.decode(after) if after else None
    if after and cursor is None:
        raise Problem(400, "`after` is not a cursor this API gave out.")
    parsed, filters = form.terms(), form.filters()
    if parsed.empty and filters == find.Filters():
        raise Problem(400, "Give `q` or a filter: an empty search lists nothing.")
    reader = find.Reader(token.brand_id, token.brand.timezone, token.dms)
    page = find.search(reader, parsed, filters, cursor)
    hits = [
        {
            "kind": hit.kind_name,
            "id": hit.id,
            "at": hit.at,
            "text": hit.text,
            "author": hit.author,
            "thread": hit.thread,
            "customer": hit.thread.customer,
        }
        for hit in page.hits
    ]
    following = page.next_cursor.encode() if page.next_cursor else None
    return {"hits": hits, "customers": page.customers, "next": following}


def _named(rows: QuerySet, given: str) -> list:
    return list(rows.filter(id=int(given))) if given.isascii() and given.isdigit() else []


# --- customers -------------------------------------------------------------------------


@api.get("/customers", response=CustomerPage, url_name="customers", tags=["customers"])
def list_customers(request: HttpRequest, tag: str = "", after: int = 0) -> dict[str, object]:
    """The brand's customers by id, 50 a page (`after`: the last id seen); `tag` keeps
    those with that tag."""
    rows = Customer.objects.filter(brand_id=token_of(request).brand_id, id__gt=after)
    if tag:
        rows = rows.filter(tags__contains=[tag])
    page = list(rows.order_by("id")[: CUSTOMERS_PAGE + 1])
    more = len(page) > CUSTOMERS_PAGE
    page = page[:CUSTOMERS_PAGE]
    return {"customers": page, "next": str(page[-1].id) if more else None}


@api.get(
    "/customers/{int:customer_id}", response=CustomerOut, url_name="customer", tags=["customers"]
)
def read_customer(request: HttpRequest, customer_id: int) -> Customer:
    customer = Customer.objects.filter(id=customer_id, brand_id=token_of(request).brand_id).first()
    if customer is None:
        raise Http404(_("No such customer."))
    return customer


# --- notes and tags (write scope) ------------------------------------------------------


@api.post(
    "/threads/{int:thread_id}/notes",
    response={201: NoteOut},
    url_name="notes",
    tags=["threads"],
)
def add_note(request: HttpRequest, thread_id: int, payload: NoteIn) -> Status:
    """An internal note (never posted to X), by the token's creator."""
    token = writer(request)
    thread = _thread(request, thread_id)
    try:
        note = actions.do_add_note(thread.id, agent=token.created_by, text=payload.text)
    except ActionError as error:
        raise Problem(422, str(error)) from None
    return Status(201, note)


@api.post("/threads/{int:thread_id}/tags", response=TagsOut, url_name="tags", tags=["threads"])
def add_tag(request: HttpRequest, thread_id: int, payload: TagIn) -> dict[str, object]:
    """Tag the thread's customer (idempotent)."""
    token = writer(request)
    thread = _thread(request, thread_id)
    try:
        customer = customers.add_tag(thread, payload.tag, agent=token.created_by)
    except ActionError as error:
        raise Problem(422, str(error)) from None
    return {"customer_id": customer.id, "tags": customer.tags}


@api.delete(
    "/threads/{int:thread_id}/tags/{tag}", response=TagsOut, url_name="tag", tags=["threads"]
)
def remove_tag(request: HttpRequest, thread_id: int, tag: str) -> dict[str, object]:
    """Take a tag off the thread's customer (idempotent)."""
    token = writer(request)
    thread = _thread(request, thread_id)
    customer = customers.remove_tag(thread, tag, agent=token.created_by)
    return {"customer_id": customer.id, "tags": customer.tags}


# --- satisfaction after close ----------------------------------------------------------


@api.get("/satisfaction", response=SatisfactionOut, url_name="satisfaction", tags=["quality"])
def satisfaction(
    request: HttpRequest, since: datetime | None = None, until: datetime | None = None
) -> dict[str, object]:
    """Survey answers received in [since, until) (default: the last 30 days), for the team,
    each agent and each day (the brand's time zone)."""
    until = until or timezone.now()
    since = since or until - timedelta(days=30)
    if since.tzinfo is None or until.tzinfo is None:
        raise Problem(400, "Give `since` and `until` with a time zone (e.g. ...Z).")
    if since >= until:
        raise Problem(400, "`since` must be before `until`.")
    found = survey.results(token_of(request).brand, since, until)
    return {
        "since": found.since,
        "until": found.until,
        "sent": found.sent,
        "team": {
            "answered": found.answered,
            "average": found.average,
            "satisfied": found.satisfied,
        },
        "agents": [{**row, "agent_name": row["agent__name"]} for row in found.agents],
        "days": found.days,
    }


# --- events ----------------------------------------------------------------------------


@api.get("/events", response=EventPage, url_name="events", tags=["events"])
def list_events(
    request: HttpRequest, after: int = 0, limit: int = Query(100, ge=1, le=EVENTS_MAX)
) -> dict[str, object]:
    """The brand's audit trail in id order, from `after` on (exclusive): pass the answer's
    `last_id` back to read on. Ids grow; a transaction still open when you read may
    commit a smaller id later, so re-read the last few seconds if you need every one."""
    token = token_of(request)
    rows = Event.objects.filter(brand_id=token.brand_id, id__gt=after)
    if not token.dms:  # a DM thread's events (their details quote it) stay private too
        rows = rows.exclude(thread__channel=Channel.DM)
    rows = list(rows.order_by("id")[:limit])
    return {"events": rows, "last_id": rows[-1].id if rows else (after or None)}


urls = api.urls
