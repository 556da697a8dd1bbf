"""The X API v2 endpoints Twelp's gateway uses, answering as X answers.

Every call goes through `endpoint()`: authenticate (401), check the auth type (403),
count it against X's rate limits (429), apply a fault if one is switched on, run the
handler, and answer JSON with the x-rate-limit-* headers.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from twelp.xsandbox import actions, compliance, faults, ratelimit, snowflake, wire
from twelp.xsandbox.auth import AuthFailed, Caller, authenticate
from twelp.xsandbox.models import Account, DirectMessage, Fault, Tweet
from twelp.xsandbox.query import QueryError, compile_query

Result = tuple[int, dict[str, object]]
Handler = Callable[..., Result]

SEARCH_WINDOW = timedelta(days=7)
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_UNSUPPORTED_AUTH = wire.problem(
    403,
    "Unsupported Authentication",
    "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
    "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
    "unsupported-authentication",
)
_TWEET_PARAMS = frozenset(
    {"expansions", "tweet.fields", "user.fields", "media.fields", "place.fields", "poll.fields"}
)
_TIMELINE_PARAMS = _TWEET_PARAMS | {
    "max_results",
    "since_id",
    "until_id",
    "start_time",
    "end_time",
    "pagination_token",
}


@dataclass(frozen=True)
class Call:
    request: HttpRequest
    caller: Caller
    params: wire.Params

    def json_body(self) -> dict[str, object]:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise wire.InvalidRequest("Request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise wire.InvalidRequest("Request body must be a JSON object.")
        return body


# The scopes an OAuth 2.0 user token needs per endpoint, as X's docs list them.
SCOPES_NEEDED: dict[str, tuple[str, ...]] = {
    "users_me": ("tweet.read", "users.read"),
    "user_lookup": ("tweet.read", "users.read"),
    "mentions": ("tweet.read", "users.read"),
    "search": ("tweet.read", "users.read"),
    "user_tweets": ("tweet.read", "users.read"),
    "tweet_lookup": ("tweet.read", "users.read"),
    "create_tweet": ("tweet.read", "tweet.write", "users.read"),
    "dm_events": ("dm.read", "tweet.read", "users.read"),
    "dm_send": ("dm.read", "dm.write", "tweet.read", "users.read"),
}


def endpoint(name: str, *, user_only: bool = False, params: Iterable[str] = ()) -> Callable:
    allowed = frozenset(params)

    def decorate(handler: Handler) -> Callable[..., HttpResponse]:
        @functools.wraps(handler)
        def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
            try:
                caller = authenticate(request)
            except AuthFailed:
                return _json(401, wire.problem(401, "Unauthorized"))
            if user_only and caller.user is None:
                return _json(403, _UNSUPPORTED_AUTH)
            missing = [s for s in SCOPES_NEEDED.get(name, ()) if not caller.may(s)]
            if missing:  # an OAuth 2.0 user token without the endpoint's scopes
                detail = f"Missing scopes: {', '.join(missing)}."
                return _json(403, wire.problem(403, "Forbidden", detail, "client-forbidden"))
            windows = ratelimit.count(name, caller)
            blocked = ratelimit.blocking(windows)
            if blocked is not None:
                ratelimit.note_refused(name, caller)
                body = wire.problem(429, "Too Many Requests")
                return _json(429, body, ratelimit.headers(windows, blocked))
            fault = faults.pick(name)
            status, body = _answer(handler, fault, request, caller, allowed, kwargs)
            return _with_fault(fault, _json(status, body, ratelimit.headers(windows)))

        return csrf_exempt(view)  # an API authenticated by its Authorization header

    return decorate


def _answer(
    handler: Handler,
    fault: faults.FaultSpec | None,
    request: HttpRequest,
    caller: Caller,
    allowed: frozenset[str],
    kwargs: dict[str, str],
) -> Result:
    if fault is not None and fault.kind == Fault.Kind.RATE_LIMIT:
        return 429, wire.problem(429, "Too Many Requests")
    if fault is not None and fault.kind == Fault.Kind.UNAVAILABLE:
        return 503, wire.problem(503, "Service Unavailable")
    if fault is not None and fault.kind == Fault.Kind.SLOW:
        time.sleep(fault.delay)  # long enough for the client's timeout to give up first
    try:
        params = wire.Params(request.GET.dict())
        params.check_known(allowed)
        status, body = handler(Call(request, caller, params), **kwargs)
    except wire.InvalidRequest as error:
        return 400, error.body()
    except actions.Rejected as error:
        return error.status, error.body
    if fault is not None and fault.kind == Fault.Kind.MISSING_FIELDS:
        _drop_fields(body, fault.drop_fields)
    if fault is not None and fault.kind == Fault.Kind.SLOW_AFTER:
        time.sleep(fault.delay)  # committed already: only the answer is late
    return status, body


def _with_fault(fault: faults.FaultSpec | None, response: HttpResponse) -> HttpResponse:
    if fault is None:
        return response
    if fault.kind == Fault.Kind.RATE_LIMIT:
        reset = int(time.time()) + fault.reset_after
        response.headers["x-rate-limit-remaining"] = "0"
        response.headers["x-rate-limit-reset"] = str(reset)
    if fault.kind == Fault.Kind.MALFORMED_JSON:
        # Cut mid-document: what a proxy that drops the connection halfway leaves behind.
        response.content = response.content[: max(len(response.content) // 2, 1)]
    return response


def _drop_fields(body: dict[str, object], fields: tuple[str, ...]) -> None:
    data = body.get("data")
    first = data[0] if isinstance(data, list) and data else data
    if isinstance(first, dict):
        for field in fields:
            first.pop(field, None)


def _json(
    status: int, body: dict[str, object], headers: dict[str, str] | None = None
) -> HttpResponse:
    response = JsonResponse(
        body, status=status, json_dumps_params={"ensure_ascii": False}, headers=headers
    )
    response["Content-Type"] = "application/json; charset=utf-8"
    return response


def by_method(**views: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """One path, a view per HTTP method (GET /2/tweets looks up; POST /2/tweets posts)."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        chosen = views.get(request.method or "")
        if chosen is None:
            return unknown_route(request)
        return chosen(request, **kwargs)

    return view


@csrf_exempt
def unknown_route(request: HttpRequest, **_: str) -> HttpResponse:
    return _json(404, {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]})


# --- timelines: mentions, a user's tweets, recent search ---------------------------------------


@endpoint("mentions", params=_TIMELINE_PARAMS)
def mentions(call: Call, user_id: str) -> Result:
    account = _account(user_id)
    if account is None:
        return 200, {"errors": [wire.not_found("user", "id", user_id)]}
    tweets = Tweet.objects.filter(mention_rows__account=account)
    return _timeline(call, tweets, low=5, token_names=("pagination_token",), previous=True)


@endpoint("user_tweets", params=_TIMELINE_PARAMS | {"exclude"})
def user_tweets(call: Call, user_id: str) -> Result:
    account = _account(user_id)
    if account is None:
        return 200, {"errors": [wire.not_found("user", "id", user_id)]}
    excluded = call.params.choices("exclude", frozenset({"retweets", "replies"}))
    tweets = Tweet.objects.filter(author=account)
    if "retweets" in excluded:
        tweets = tweets.filter(retweeted_tweet_id__isnull=True)
    if "replies" in excluded:
        tweets = tweets.filter(in_reply_to_tweet_id__isnull=True)
    return _timeline(call, tweets, low=5, token_names=("pagination_token",), previous=True)


@endpoint(
    "search",
    params=(_TIMELINE_PARAMS - {"pagination_token"}) | {"query", "next_token", "sort_order"},
)
def search_recent(call: Call) -> Result:
    query = call.params.text("query", required=True)
    call.params.choices("sort_order", frozenset({"recency", "relevancy"}))  # both: newest first
    try:
        matching = compile_query(query)
    except QueryError as error:
        raise wire.InvalidRequest(str(error), "query", query) from None
    oldest = snowflake.floor_for(timezone.now() - SEARCH_WINDOW)
    since_id = call.params.snowflake("since_id")
    if since_id is not None and since_id < oldest:
        # Recent search covers seven days; X refuses a cursor older than that.
        raise wire.InvalidRequest(
            f"Invalid 'since_id':'{since_id}'. 'since_id' must be a tweet id created after "
            f"{wire.timestamp(snowflake.to_datetime(oldest))}. Please use a 'since_id' that is "
            f"larger than {oldest}",
            "since_id",
            str(since_id),
        )
    tweets = Tweet.objects.filter(matching, id__gte=oldest)
    return _timeline(call, tweets, low=10, token_names=("next_token",), previous=False)


def _timeline(
    call: Call, tweets: QuerySet[Tweet], *, low: int, token_names: tuple[str, ...], previous: bool
) -> Result:
    params = call.params
    size = params.bounded("max_results", low, 100, default=10)
    tweets = _bounded(tweets, params)
    token = _token(params, token_names)
    page, older, newer = _page(tweets.select_related("author", "in_reply_to_user"), size, token)
    meta: dict[str, object] = {"result_count": len(page)}
    if page:
        meta |= {"newest_id": str(page[0].id), "oldest_id": str(page[-1].id)}
    if older is not None:
        meta["next_token"] = older.encode()
    if previous and newer is not None:
        meta["previous_token"] = newer.encode()
    return 200, _tweets_body(params, page) | {"meta": meta}


def _bounded(tweets: QuerySet[Tweet], params: wire.Params) -> QuerySet[Tweet]:
    """since_id and until_id are exclusive; start_time inclusive, end_time exclusive."""
    since_id, until_id = params.snowflake("since_id"), params.snowflake("until_id")
    start, end = params.time("start_time"), params.time("end_time")
    if since_id is not None:
        tweets = tweets.filter(id__gt=since_id)
    if until_id is not None:
        tweets = tweets.filter(id__lt=until_id)
    # A snowflake carries its time, so a time bound is an id bound.
    if start is not None and since_id is None:  # X: since_id wins over start_time
        tweets = tweets.filter(id__gte=snowflake.floor_for(start))
    if end is not None:
        tweets = tweets.filter(id__lt=snowflake.floor_for(end))
    return tweets


def _token(params: wire.Params, names: tuple[str, ...]) -> wire.PageToken | None:
    for name in names:
        value = params.text(name)
        if value:
            return wire.PageToken.decode(name, value)
    return None


def _page(
    rows: QuerySet, size: int, token: wire.PageToken | None
) -> tuple[list, wire.PageToken | None, wire.PageToken | None]:
    """Newest first. Returns the page and the tokens to the older and the newer page."""
    if token is None or token.older:
        if token is not None:
            rows = rows.filter(id__lt=token.boundary)
        page = list(rows.order_by("-id")[: size + 1])
        more_older, page = len(page) > size, page[:size]
        older = wire.PageToken(True, page[-1].id) if more_older else None
        newer = wire.PageToken(False, page[0].id) if token is not None and page else None
        return page, older, newer
    page = list(rows.filter(id__gt=token.boundary).order_by("id")[: size + 1])
    more_newer, page = len(page) > size, page[:size][::-1]
    older = wire.PageToken(True, page[-1].id) if page else None
    newer = wire.PageToken(False, page[0].id) if more_newer else None
    return page, older, newer


# --- tweets: lookup and create ---------------------------------------------------------------


@endpoint("tweet_lookup", params=_TWEET_PARAMS)
def tweet_by_id(call: Call, tweet_id: str) -> Result:
    wanted = wire.Params({"id": tweet_id}).snowflake("id")
    found = Tweet.objects.select_related("author", "in_reply_to_user").filter(pk=wanted).first()
    if found is None:
        return 200, {"errors": [wire.not_found("tweet", "id", tweet_id)]}
    body = _tweets_body(call.params, [found])
    return 200, body | {"data": body["data"][0]}


@endpoint("tweet_lookup", params=_TWEET_PARAMS | {"ids"})
def tweets_by_ids(call: Call) -> Result:
    wanted = call.params.snowflakes("ids", most=100)
    found = Tweet.objects.select_related("author", "in_reply_to_user").in_bulk(wanted)
    tweets = [found[i] for i in dict.fromkeys(wanted) if i in found]
    errors = [wire.not_found("tweet", "ids", str(i)) for i in wanted if i not in found]
    return 200, _tweets_body(call.params, tweets) | ({"errors": errors} if errors else {})


@endpoint("create_tweet", user_only=True)
def create_tweet(call: Call) -> Result:
    body = call.json_body()
    text = body.get("text")
    if not isinstance(text, str):
        raise wire.InvalidRequest("text is required when media is not present.", "text")
    reply = body.get("reply")
    in_reply_to = _body_id(reply, "in_reply_to_tweet_id")
    if reply is not None and in_reply_to is None:
        raise wire.InvalidRequest("reply.in_reply_to_tweet_id is required.", "reply")
    if in_reply_to is not None and call.caller.app.consumer_key not in _enterprise_apps():
        actions.check_summoned(call.caller.user, in_reply_to)  # type: ignore[arg-type]
    tweet = actions.post_tweet(
        call.caller.user,  # type: ignore[arg-type]  # user_only
        text,
        in_reply_to_tweet_id=in_reply_to,
        quote_tweet_id=_body_id(body, "quote_tweet_id"),
    )
    data = {
        "id": str(tweet.id),
        "text": wire.escape_text(tweet.text),
        "edit_history_tweet_ids": [str(tweet.id)],
    }
    return 201, {"data": data}


def _enterprise_apps() -> frozenset[str]:
    """Consumer keys of apps with Enterprise access: exempt from the summoned-reply rule."""
    return frozenset(settings.XSANDBOX_ENTERPRISE_APPS)


def _body_id(body: object, name: str) -> int | None:
    value = body.get(name) if isinstance(body, dict) else None
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]{1,19}", str(value)):
        raise wire.InvalidRequest(f"{name} must be a numeric string.", name, str(value))
    return int(value)


def _tweets_body(params: wire.Params, tweets: list[Tweet]) -> dict[str, object]:
    fields = params.choices("tweet.fields", wire.TWEET_FIELDS)
    expansions = params.choices("expansions", wire.TWEET_EXPANSIONS)
    user_fields = params.choices("user.fields", wire.USER_FIELDS)
    media_fields = params.choices("media.fields", wire.MEDIA_FIELDS)
    params.choices("place.fields", wire.PLACE_FIELDS)
    params.choices("poll.fields", wire.POLL_FIELDS)
    body: dict[str, object] = {}
    if tweets:
        body["data"] = [wire.tweet(item, fields) for item in tweets]
    includes = _includes(tweets, fields, expansions, user_fields)
    if "attachments.media_keys" in expansions:
        attached = [entry for item in tweets for entry in item.media]
        if attached:
            includes["media"] = [wire.media(e, media_fields, _media_base()) for e in attached]
    if includes:
        body["includes"] = includes
    return body


def _media_base() -> str:
    """Where this sandbox serves its media: its own public URL (X's is pbs.twimg.com)."""
    return settings.XSANDBOX_URL


def _includes(
    tweets: list[Tweet],
    fields: frozenset[str],
    expansions: frozenset[str],
    user_fields: frozenset[str],
) -> dict[str, list[dict[str, object]]]:
    wants_referenced = expansions & {"referenced_tweets.id", "referenced_tweets.id.author_id"}
    referenced = _referenced(tweets) if wants_referenced else []
    users = _expanded_users(tweets, referenced, expansions)
    includes: dict[str, list[dict[str, object]]] = {}
    if users:
        includes["users"] = [wire.user(account, user_fields) for account in users]
    if referenced and "referenced_tweets.id" in expansions:
        includes["tweets"] = [wire.tweet(item, fields) for item in referenced]
    return includes


def _referenced(tweets: list[Tweet]) -> list[Tweet]:
    ids = [int(ref["id"]) for item in tweets for ref in item.referenced_tweets]
    found = Tweet.objects.select_related("author").in_bulk(ids)
    return [found[i] for i in dict.fromkeys(ids) if i in found]


def _expanded_users(
    tweets: list[Tweet], referenced: list[Tweet], expansions: frozenset[str]
) -> list[Account]:
    """Each user once, in the order X lists them: authors, then whom they answer, then more."""
    users: dict[int, Account] = {}
    for item in tweets:
        if "author_id" in expansions:
            users.setdefault(item.author_id, item.author)
        if "in_reply_to_user_id" in expansions and item.in_reply_to_user is not None:
            users.setdefault(item.in_reply_to_user_id, item.in_reply_to_user)
    if "referenced_tweets.id.author_id" in expansions:
        for item in referenced:
            users.setdefault(item.author_id, item.author)
    if "entities.mentions.username" in expansions:
        mentioned = [m["id"] for t in tweets for m in t.entities.get("mentions", []) if "id" in m]
        for account in Account.objects.filter(pk__in=mentioned):
            users.setdefault(account.pk, account)
    return list(users.values())


# --- users --------------------------------------------------------------------------------------

_USER_PARAMS = frozenset({"expansions", "tweet.fields", "user.fields"})


@endpoint("users_me", user_only=True, params=_USER_PARAMS)
def users_me(call: Call) -> Result:
    return 200, _user_body(call, call.caller.user)  # type: ignore[arg-type]


@endpoint("user_lookup", params=_USER_PARAMS)
def user_by_username(call: Call, username: str) -> Result:
    if not _USERNAME.match(username):
        raise wire.InvalidRequest(
            f"The `username` query parameter value [{username}] does not match "
            "^[A-Za-z0-9_]{1,15}$",
            "username",
            username,
        )
    account = Account.objects.filter(username__iexact=username).first()
    if account is None:
        return 200, {"errors": [wire.not_found("user", "username", username)]}
    return 200, _user_body(call, account)


@endpoint("user_lookup", params=_USER_PARAMS)
def user_by_id(call: Call, user_id: str) -> Result:
    wire.Params({"id": user_id}).snowflake("id")
    account = _account(user_id)
    if account is None:
        return 200, {"errors": [wire.not_found("user", "id", user_id)]}
    return 200, _user_body(call, account)


def _user_body(call: Call, account: Account) -> dict[str, object]:
    params = call.params
    fields = params.choices("user.fields", wire.USER_FIELDS)
    params.choices("expansions", wire.USER_EXPANSIONS)  # no pinned tweets here: nothing to add
    params.choices("tweet.fields", wire.TWEET_FIELDS)
    return {"data": wire.user(account, fields, viewer=call.caller.user)}


def _account(user_id: str) -> Account | None:
    return Account.objects.filter(pk=int(user_id)).first() if user_id.isdigit() else None


# --- direct messages ----------------------------------------------------------------------------


_DM_EVENT_PARAMS = frozenset(
    {
        "dm_event.fields",
        "event_types",
        "expansions",
        "max_results",
        "media.fields",
        "pagination_token",
        "tweet.fields",
        "user.fields",
    }
)


@endpoint("dm_events", user_only=True, params=_DM_EVENT_PARAMS)
def dm_events(call: Call) -> Result:
    me = call.caller.user
    return _dm_events(call, DirectMessage.objects.filter(Q(sender=me) | Q(recipient=me)))


@endpoint("dm_conversation_events", user_only=True, params=_DM_EVENT_PARAMS)
def dm_conversation_events(call: Call, participant_id: str) -> Result:
    """GET /2/dm_conversations/with/:participant_id/dm_events: one one-to-one conversation."""
    me = call.caller.user
    other = _account(participant_id)
    if other is None:
        raise wire.InvalidRequest(
            f"The `participant_id` value [{participant_id}] is not a valid user id.",
            "participant_id",
            participant_id,
        )
    low, high = sorted((me.pk, other.pk))  # type: ignore[union-attr]  # user_only
    return _dm_events(call, DirectMessage.objects.filter(conversation_id=f"{low}-{high}"))


def _dm_events(call: Call, events: QuerySet[DirectMessage]) -> Result:
    params = call.params
    size = params.bounded("max_results", 1, 100, default=100)
    fields = params.choices("dm_event.fields", wire.DM_EVENT_FIELDS)
    expansions = params.choices("expansions", wire.DM_EXPANSIONS)
    user_fields = params.choices("user.fields", wire.USER_FIELDS)
    types = params.choices(
        "event_types", frozenset({"MessageCreate", "ParticipantsJoin", "ParticipantsLeave"})
    )
    if types and "MessageCreate" not in types:
        events = events.none()  # the sandbox only has messages, no joins or leaves
    token = _token(params, ("pagination_token",))
    page, older, newer = _page(events.select_related("sender", "recipient"), size, token)
    body: dict[str, object] = {}
    if page:
        body["data"] = [wire.dm_event(message, fields) for message in page]
    media_fields = params.choices("media.fields", wire.MEDIA_FIELDS)
    users = _dm_users(page, expansions)
    includes: dict[str, object] = {}
    if users:
        includes["users"] = [wire.user(account, user_fields) for account in users]
    attached = [e for m in page for e in m.media] if "attachments.media_keys" in expansions else []
    if attached:
        includes["media"] = [wire.media(e, media_fields, _media_base()) for e in attached]
    if includes:
        body["includes"] = includes
    meta: dict[str, object] = {"result_count": len(page)}
    if older is not None:
        meta["next_token"] = older.encode()
    if newer is not None:
        meta["previous_token"] = newer.encode()
    return 200, body | {"meta": meta}


def _dm_users(page: list[DirectMessage], expansions: frozenset[str]) -> list[Account]:
    users: dict[int, Account] = {}
    for message in page:
        if expansions & {"sender_id", "participant_ids"}:
            users.setdefault(message.sender_id, message.sender)
        if "participant_ids" in expansions:
            users.setdefault(message.recipient_id, message.recipient)
    return list(users.values())


@endpoint("dm_send", user_only=True)
def dm_send(call: Call, participant_id: str) -> Result:
    body = call.json_body()
    recipient = _account(participant_id)
    if recipient is None:
        raise wire.InvalidRequest(
            f"The `participant_id` value [{participant_id}] is not a user you can message.",
            "participant_id",
            participant_id,
        )
    text = body.get("text")
    message = actions.send_dm(call.caller.user, recipient, text if isinstance(text, str) else "")  # type: ignore[arg-type]
    data = {"dm_conversation_id": message.conversation_id, "dm_event_id": str(message.id)}
    return 201, {"data": data}


# --- batch compliance (twelp/xsandbox/compliance.py) ----------------------------------------


@endpoint("compliance_jobs")
def create_compliance_job(call: Call) -> Result:
    return compliance.create_job(call.request, call.caller.app.id, call.json_body())


@endpoint("compliance_jobs", params={"type", "status"})
def compliance_jobs(call: Call) -> Result:
    params = call.request.GET
    return compliance.list_jobs(
        call.request, call.caller.app.id, params.get("type"), params.get("status")
    )


@endpoint("compliance_jobs")
def compliance_job(call: Call, job_id: str) -> Result:
    return compliance.get_job(call.request, call.caller.app.id, job_id)
