"""The one door to X. Nothing else in Twelp imports tweepy or sees its types.

- `tweepy.Client` is built from settings. tweepy has no base-URL option: BaseClient.request
  sends every call to the local "https://api.twitter.com" + route through `self.session`
  (checked against tweepy 4.17.0). `XSession`, a requests.Session, rewrites that origin
  to X_API_BASE_URL (X itself, or the sandbox) and sets the timeout.
- Callers get frozen dataclasses (XTweet, XUser, XPage, XDirectMessage, DMPage, PostedTweet).
- Tweets are parsed one by one: a malformed tweet lands in `XPage.malformed` with its
  error and never stops the good tweets of its page.
- Failures become four exceptions tasks act on: RateLimited(reset_at), Transient (5xx,
  timeouts, connection errors, malformed JSON), Permanent (400/403/404; DuplicateContent
  is one) and Unauthorized (401).
- X escapes &, < and > in tweet text; XTweet.text is unescaped (XTweet.raw is as X sent it).
"""

from __future__ import annotations

import html
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

import requests
import tweepy
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from oauthlib.oauth2 import InsecureTransportError, is_secure_transport
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from requests_oauthlib import OAuth2Session

from twelp import xlimits

log = logging.getLogger(__name__)

TWEET_FIELDS = [
    "attachments",
    "author_id",
    "conversation_id",
    "created_at",
    "in_reply_to_user_id",
    "referenced_tweets",
    "entities",
    "lang",
    "public_metrics",
]
USER_FIELDS = ["created_at", "description", "public_metrics", "verified", "profile_image_url"]
DM_EVENT_FIELDS = [
    *("id", "text", "event_type", "created_at", "dm_conversation_id", "sender_id"),
    "attachments",
]
# Images and videos attached to a tweet or DM (expansion attachments.media_keys).
MEDIA_FIELDS = ["media_key", "type", "url", "preview_image_url", "width", "height", "alt_text"]
REQUIRED_TWEET_FIELDS = ("author_id", "conversation_id", "created_at")
# X's published cap on how far back a user's timeline reaches: 3,200 tweets, 100 a page.
TIMELINE_PAGES = 32
DEFAULT_RESET = xlimits.FALLBACK  # a 429 without a believable reset header (twelp.xlimits)
_LEADING_MENTIONS = re.compile(r"^(?:\s*@\w{1,15})+")
_LINK_SCHEME = re.compile(r"\bhttps?://", re.IGNORECASE)
_Item = TypeVar("_Item")


# --- errors ----------------------------------------------------------------------------------


class XError(Exception):
    """Anything X (or the way to it) refused or failed."""


class RateLimited(XError):
    """429: try again at `reset_at`, not before. `windows`: X's headers on the 429, as sent."""

    def __init__(
        self, reset_at: datetime, message: str = "", windows: tuple[XWindow, ...] = ()
    ) -> None:
        super().__init__(message or f"Rate limited until {reset_at:%H:%M:%S}")
        self.reset_at = reset_at
        self.windows = windows


class Transient(XError):
    """X or the network failed this time (5xx, timeout, broken JSON): retry with back-off."""


class Permanent(XError):
    """X refused the request itself (400, 403, 404): retrying the same request will not help."""


class DuplicateContent(Permanent):
    """403: the account already posted this exact text recently."""


class NotSummoned(Permanent):
    """403 to a reply: the post's author never mentioned or quoted the brand, and X lets
    a self-serve app reply only to posts that do (since 23 Feb 2026)."""


class DMRefused(Permanent):
    """403 to a DM: the recipient does not accept DMs from the brand (they neither follow
    it nor accept messages from anyone)."""


class Unauthorized(XError):
    """401: the credentials are wrong or revoked."""


class NotConnected(XError):
    """The brand has no usable X credentials (none connected, or X refused them with a 401
    and an admin has not connected the account again): nothing is sent to X for it."""


# --- records -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class XUser:
    id: int
    username: str
    name: str
    description: str = ""
    followers_count: int = 0
    verified: bool = False
    profile_image_url: str = ""
    created_at: datetime | None = None
    raw: Mapping[str, object] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class XMedia:
    """One attached photo, GIF or video, as X describes it in includes.media. Its URLs are
    X's to host (pbs.twimg.com): Twelp stores them and pages load them from there."""

    key: str
    type: str
    url: str = ""  # photos only; a video or GIF has a preview_image_url instead
    preview_url: str = ""
    width: int | None = None
    height: int | None = None
    alt_text: str = ""

    def stored(self) -> dict[str, object]:
        """What Message.media keeps of it."""
        return {
            "key": self.key,
            "type": self.type,
            "url": self.url,
            "preview_url": self.preview_url,
            "width": self.width,
            "height": self.height,
            "alt_text": self.alt_text,
        }


@dataclass(frozen=True)
class XTweet:
    id: int
    text: str
    author_id: int
    conversation_id: int
    created_at: datetime
    in_reply_to_user_id: int | None = None
    # (type, tweet id) pairs: "replied_to", "quoted", "retweeted"
    referenced: tuple[tuple[str, int], ...] = ()
    lang: str | None = None
    raw: Mapping[str, object] = field(default_factory=dict, compare=False, repr=False)
    media: tuple[XMedia, ...] = ()

    def referenced_id(self, kind: str) -> int | None:
        return next((ref for ref_kind, ref in self.referenced if ref_kind == kind), None)

    @property
    def in_reply_to_tweet_id(self) -> int | None:
        return self.referenced_id("replied_to")

    @property
    def is_retweet(self) -> bool:
        """A plain retweet: the inbox skips these. A quote is not one."""
        return self.referenced_id("retweeted") is not None

    @property
    def expanded_text(self) -> str:
        """The text with X's t.co links replaced by the links the author wrote."""
        expanded = self.text
        entities = _dict(self.raw.get("entities"))
        for url in _list(entities.get("urls")):
            short, long = _dict(url).get("url"), _dict(url).get("expanded_url")
            if isinstance(short, str) and isinstance(long, str) and short and "\x00" not in long:
                expanded = expanded.replace(short, long)
        return expanded


@dataclass(frozen=True)
class Malformed:
    """An item X sent that Twelp cannot use, kept with the reason (for admins to see)."""

    raw: object
    error: str


@dataclass(frozen=True)
class XPage:
    tweets: tuple[XTweet, ...]
    users: Mapping[int, XUser]
    newest_id: int | None = None
    oldest_id: int | None = None
    next_token: str | None = None
    malformed: tuple[Malformed, ...] = ()
    missing: tuple[int, ...] = ()  # ids a lookup asked for that X does not have
    rate_limit_remaining: int | None = None
    rate_limit_reset: datetime | None = None


@dataclass(frozen=True)
class XDirectMessage:
    id: int
    text: str
    sender_id: int
    conversation_id: str
    created_at: datetime
    raw: Mapping[str, object] = field(default_factory=dict, compare=False, repr=False)
    media: tuple[XMedia, ...] = ()


@dataclass(frozen=True)
class DMPage:
    messages: tuple[XDirectMessage, ...]
    users: Mapping[int, XUser]
    next_token: str | None = None
    malformed: tuple[Malformed, ...] = ()
    rate_limit_remaining: int | None = None
    rate_limit_reset: datetime | None = None


@dataclass(frozen=True)
class XWindow:
    """One of X's rate-limit windows as its headers said it, unchecked (a header may be
    missing, negative or absurd: the caller clamps). `span` is "15min" (x-rate-limit-*)
    or "24h" (x-app-limit-24hour-*, x-user-limit-24hour-*)."""

    span: str
    limit: int | None
    remaining: int | None
    reset: int | None  # Unix seconds


@dataclass(frozen=True)
class PostedTweet:
    """What X accepted: a tweet (id, text as X stored it) or, from send_dm, a DM event."""

    id: int
    text: str
    dm_conversation_id: str | None = None
    # From X's headers: when it hits 0, the account's posting budget is spent until reset.
    rate_limit_remaining: int | None = None
    rate_limit_reset: datetime | None = None
    windows: tuple[XWindow, ...] = ()


# --- the client ----------------------------------------------------------------------------------


class XSession(requests.Session):
    """Every request tweepy makes passes here: send it to `base_url`, with a timeout."""

    X_ORIGINS = ("https://api.twitter.com", "https://api.x.com")

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def rewrite(self, url: str) -> str:
        for origin in self.X_ORIGINS:
            if url == origin or url.startswith(origin + "/"):
                return self.base_url + url[len(origin) :]
        return url

    def request(self, method: str | bytes, url: str | bytes, *args: object, **kwargs: object):  # type: ignore[override]
        # Rewritten before requests prepares it, so OAuth 1.0a signs the URL actually sent.
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        target = self.rewrite(url.decode() if isinstance(url, bytes) else url)
        return super().request(method, target, *args, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Credentials:
    """One brand account's user credentials (inbox.configure.credentials opens them from the DB).

    OAuth 1.0a: the account's access token and secret, signed with the app's consumer key
    (X_CONSUMER_KEY, unless the brand pasted its own app's). OAuth 2.0: the account's user
    access token, sent as a Bearer token. Either way every call made for the brand, reads
    included, is in its user context: its own per-user budgets, and a 401 stops it alone."""

    kind: str  # "oauth1" or "oauth2"
    access_token: str
    access_token_secret: str = ""
    consumer_key: str = ""
    consumer_secret: str = ""

    def __repr__(self) -> str:  # never a secret in a log or a traceback
        return f"Credentials({self.kind})"


class _Env:
    """acting_for's default: the credentials in settings (the env brand's, and the app's)."""


ENV = _Env()


@dataclass(frozen=True)
class _Config:
    base_url: str
    timeout: float
    bearer_token: str
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str
    # "" : settings' credentials as always (app-only reads, OAuth 1.0a writes);
    # "oauth1" / "oauth2": a connected brand's, every call in its user context.
    user_context: str = field(default="", repr=False)

    def __repr__(self) -> str:
        return f"_Config({self.base_url}, {self.user_context or 'env'})"

    @classmethod
    def current(cls) -> _Config:
        live = cls(
            base_url=settings.X_API_BASE_URL,
            timeout=settings.X_API_TIMEOUT,
            bearer_token=settings.X_BEARER_TOKEN,
            consumer_key=settings.X_CONSUMER_KEY,
            consumer_secret=settings.X_CONSUMER_SECRET,
            access_token=settings.X_ACCESS_TOKEN,
            access_token_secret=settings.X_ACCESS_TOKEN_SECRET,
        )
        if getattr(_local, "training", False):
            return live.for_training()
        account = getattr(_local, "account", ENV)
        if account is ENV:
            return live
        if not isinstance(account, Credentials):
            raise NotConnected(str(account))
        if account.kind == "oauth2":
            return replace(
                live,
                bearer_token=account.access_token,
                consumer_key="",
                consumer_secret="",
                access_token="",
                access_token_secret="",
                user_context="oauth2",
            )
        return replace(
            live,
            consumer_key=account.consumer_key or live.consumer_key,
            consumer_secret=account.consumer_secret or live.consumer_secret,
            access_token=account.access_token,
            access_token_secret=account.access_token_secret,
            user_context="oauth1",
        )

    @classmethod
    def app(cls) -> _Config:
        """The app alone (its Bearer token): X's batch compliance takes nothing else."""
        return replace(cls.current_env(), consumer_key="", consumer_secret="")

    @classmethod
    def current_env(cls) -> _Config:
        return cls(
            base_url=settings.X_API_BASE_URL,
            timeout=settings.X_API_TIMEOUT,
            bearer_token=settings.X_BEARER_TOKEN,
            consumer_key=settings.X_CONSUMER_KEY,
            consumer_secret=settings.X_CONSUMER_SECRET,
            access_token=settings.X_ACCESS_TOKEN,
            access_token_secret=settings.X_ACCESS_TOKEN_SECRET,
        )

    def for_training(self) -> _Config:
        """The training account: only in the sandbox, never with the live account's token."""
        base_url = settings.X_TRAINING_API_BASE_URL
        if any(base_url.startswith(origin) for origin in XSession.X_ORIGINS):
            raise ImproperlyConfigured("X_TRAINING_API_BASE_URL must be the sandbox, never X.")
        if settings.X_TRAINING_ACCESS_TOKEN in ("", settings.X_ACCESS_TOKEN):
            raise ImproperlyConfigured("X_TRAINING_ACCESS_TOKEN must differ from X_ACCESS_TOKEN.")
        return replace(
            self,
            base_url=base_url,
            access_token=settings.X_TRAINING_ACCESS_TOKEN,
            access_token_secret=settings.X_TRAINING_ACCESS_TOKEN_SECRET,
        )

    def check(self, *, user_auth: bool) -> None:
        if self.user_context == "oauth2":
            if not self.bearer_token:
                raise NotConnected("The brand's OAuth 2.0 access token is empty.")
            return
        user_auth = user_auth or self.user_context == "oauth1"  # reads signed too (_call)
        if user_auth and self.user_context == "oauth1" and not self.consumer_key:
            raise ImproperlyConfigured(
                "X_CONSUMER_KEY is not set, and the brand's pasted keys name no app of their own."
            )
        names = (
            ["X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"]
            if user_auth
            else ["X_BEARER_TOKEN"]
        )
        for name in names:
            if not getattr(self, name.removeprefix("X_").lower()):
                raise ImproperlyConfigured(f"{name} is not set: Twelp cannot call X without it.")


_local = threading.local()  # requests.Session is not thread-safe: one client per thread


class ActingAccount(Protocol):
    """What acting_for reads of a brand (inbox.models.Brand is one): the gateway knows no
    tables, only that a training brand names the live brand it trains for."""

    @property
    def training_for_id(self) -> int | None: ...


@contextmanager
def acting_for(brand: ActingAccount, account: Credentials | _Env | str = ENV) -> Iterator[None]:
    """Calls inside act as `brand`'s account: a training brand's (Brand.training_for set)
    lives only in the sandbox, so a trainee's practice can never reach the live account.

    `account`: the brand's own credentials (inbox.configure.credentials.account_for); ENV, settings'
    (the env brand's); a string, why the brand cannot call X: every call inside then raises
    NotConnected with it, before anything is sent."""
    previous = getattr(_local, "training", False), getattr(_local, "account", ENV)
    _local.training = brand.training_for_id is not None
    _local.account = account
    try:
        yield
    finally:
        _local.training, _local.account = previous


def _forced_user_auth() -> bool | None:
    """A connected brand calls in its user context, reads included: OAuth 1.0a signs
    (user_auth=True), an OAuth 2.0 user token is a Bearer token (user_auth=False)."""
    if getattr(_local, "training", False):
        return None
    account = getattr(_local, "account", ENV)
    if isinstance(account, Credentials):
        return account.kind == "oauth1"
    return None


def client(*, user_auth: bool = False, app_only: bool = False) -> tweepy.Client:
    """tweepy's client for the account acted for (rebuilt when it changes, as in tests)."""
    config = _Config.app() if app_only else _Config.current()
    config.check(user_auth=user_auth and config.user_context != "oauth2")
    cached = getattr(_local, "client", None)
    if cached is None or cached[0] != config:
        built = tweepy.Client(
            bearer_token=config.bearer_token,
            consumer_key=config.consumer_key,
            consumer_secret=config.consumer_secret,
            access_token=config.access_token,
            access_token_secret=config.access_token_secret,
            # The raw response: headers for the rate limits, and each tweet parsed alone.
            return_type=requests.Response,
        )
        built.session = XSession(config.base_url, config.timeout)
        _local.client = cached = (config, built)
    return cached[1]


# --- the sandbox's control API --------------------------------------------------------------------


class SandboxUnavailable(Exception):
    """The X sandbox's control API could not do what was asked; the message says why."""


def sandbox_control(method: str, path: str, *, payload: dict | None = None) -> dict:
    """Call the sandbox's keyed /_sandbox/<path> at X_TRAINING_API_BASE_URL (the sandbox that
    holds the training account) with XSANDBOX_ADMIN_TOKEN; its JSON answer. Training mode
    asks it for practice customers over HTTP, as every other call to the fake X goes."""
    base_url = settings.X_TRAINING_API_BASE_URL.rstrip("/")
    if any(base_url.startswith(origin) for origin in XSession.X_ORIGINS):
        raise SandboxUnavailable("X_TRAINING_API_BASE_URL is X itself, not the X sandbox.")
    if not settings.XSANDBOX_ADMIN_TOKEN:
        raise SandboxUnavailable("XSANDBOX_ADMIN_TOKEN is not set, so the X sandbox is not asked.")
    try:
        response = requests.request(
            method,
            f"{base_url}/_sandbox/{path}",
            json=payload,
            headers={"X-Sandbox-Token": settings.XSANDBOX_ADMIN_TOKEN},
            timeout=settings.X_API_TIMEOUT,
        )
    except requests.RequestException as error:
        raise SandboxUnavailable(f"The X sandbox at {base_url} cannot be reached.") from error
    if response.status_code in (403, 404):  # the control API is off, or keyed differently
        raise SandboxUnavailable(
            f"The X sandbox at {base_url} refused the call (HTTP {response.status_code}): "
            "it needs the same XSANDBOX_ADMIN_TOKEN as Twelp."
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if not response.ok or not isinstance(body, dict):
        said = f": {body['error']}" if isinstance(body, dict) and "error" in body else "."
        status = response.status_code
        raise SandboxUnavailable(f"The X sandbox at {base_url} failed (HTTP {status}){said}")
    return body


# --- reads ---------------------------------------------------------------------------------------


def mentions(
    user_id: int,
    *,
    since_id: int | None = None,
    pagination_token: str | None = None,
    max_results: int = 100,
) -> XPage:
    """One page of tweets mentioning `user_id`, newest first (X: 5..100 a page)."""
    body, response = _call(
        client().get_users_mentions,
        user_id,
        since_id=since_id,
        pagination_token=pagination_token,
        max_results=max_results,
        **_tweet_params(),
    )
    return _page(body, response)


def search_recent(
    query: str,
    *,
    since_id: int | None = None,
    next_token: str | None = None,
    max_results: int = 100,
) -> XPage:
    """One page of the last seven days' tweets matching `query` (X: 10..100 a page)."""
    body, response = _call(
        client().search_recent_tweets,
        query,
        since_id=since_id,
        next_token=next_token,
        max_results=max_results,
        **_tweet_params(),
    )
    return _page(body, response)


def user_tweets(
    user_id: int,
    *,
    since_id: int | None = None,
    pagination_token: str | None = None,
    max_results: int = 100,
) -> XPage:
    """One page of `user_id`'s own tweets, replies included, newest first."""
    body, response = _call(
        client().get_users_tweets,
        user_id,
        since_id=since_id,
        pagination_token=pagination_token,
        max_results=max_results,
        **_tweet_params(),
    )
    return _page(body, response)


def get_tweets(ids: list[int]) -> XPage:
    """Up to 100 tweets by id; the ones X does not have are listed in `missing`."""
    body, response = _call(client().get_tweets, ids, **_tweet_params())
    return _page(body, response)


def get_tweet(tweet_id: int) -> XTweet | None:
    body, response = _call(client().get_tweet, tweet_id, **_tweet_params())
    if "data" not in body:
        return None
    page = _page(body | {"data": [body["data"]]}, response)
    if page.malformed:
        raise Permanent(f"X sent tweet {tweet_id} malformed: {page.malformed[0].error}")
    return page.tweets[0]


def get_me() -> XUser:
    """The account the user-context credentials act as: the brand."""
    body, _ = _call(client(user_auth=True).get_me, user_auth=True, user_fields=USER_FIELDS)
    user = _user(body.get("data"))
    if user is None:
        raise Transient("X answered users/me without a usable user.")
    return user


def get_user_by_username(username: str) -> XUser | None:
    body, _ = _call(client().get_user, username=username, user_fields=USER_FIELDS)
    return _user(body.get("data"))


def get_user(user_id: int) -> XUser | None:
    body, _ = _call(client().get_user, id=user_id, user_fields=USER_FIELDS)
    return _user(body.get("data"))


def receives_dms(user_id: int) -> bool:
    """Whether X would take a DM from the brand to this user now (X's user field
    `receives_your_dm`, user context: they follow the brand, accept DMs from anyone, or
    wrote to it). False when X does not say, or the user is gone."""
    body, _ = _call(
        client(user_auth=True).get_user,
        id=user_id,
        user_fields=["receives_your_dm"],
        user_auth=True,
    )
    data = body.get("data")
    return isinstance(data, dict) and data.get("receives_your_dm") is True


def dm_events(*, pagination_token: str | None = None, max_results: int = 100) -> DMPage:
    """One page of the brand's DM events, newest first. X has no since_id here: page back
    until a known event id appears."""
    body, response = _call(
        client(user_auth=True).get_direct_message_events,
        pagination_token=pagination_token,
        max_results=max_results,
        event_types="MessageCreate",
        dm_event_fields=DM_EVENT_FIELDS,
        expansions=["sender_id", "attachments.media_keys"],
        user_fields=USER_FIELDS,
        media_fields=MEDIA_FIELDS,
        user_auth=True,
    )
    return _dm_page(body, response)


def _dm_page(body: dict, response: requests.Response) -> DMPage:
    messages, malformed = _parse_each(body.get("data") or [], _direct_message)
    media = _media_of(body)
    remaining, reset = rate_limit(response.headers)
    return DMPage(
        messages=tuple(replace(m, media=_attached(m.raw, media)) for m in messages),
        users=_users(body),
        next_token=(body.get("meta") or {}).get("next_token"),
        malformed=tuple(malformed),
        rate_limit_remaining=remaining,
        rate_limit_reset=reset,
    )


def recent_replies_by(user_id: int, in_reply_to_tweet_id: int) -> list[XTweet]:
    """`user_id`'s tweets replying to `in_reply_to_tweet_id`, read from their timeline.

    A reply is newer than what it answers, so the scan starts at that tweet (since_id)
    and never reads further back; the timeline, unlike search, shows a tweet at once.
    """
    found: list[XTweet] = []
    token: str | None = None
    for _ in range(TIMELINE_PAGES):
        page = user_tweets(user_id, since_id=in_reply_to_tweet_id, pagination_token=token)
        found += [t for t in page.tweets if t.in_reply_to_tweet_id == in_reply_to_tweet_id]
        token = page.next_token
        if token is None:
            break
    return found


def find_reply(*, author_id: int, in_reply_to_tweet_id: int, text: str) -> int | None:
    """The id of `author_id`'s reply to that tweet with this text, if X already has it.

    Compared as X stores a reply: it may have added @mentions in front and replaced links
    with t.co links, so both sides drop leading mentions and the tweet's links are expanded.
    """
    wanted = _comparable(text)
    for tweet in recent_replies_by(author_id, in_reply_to_tweet_id):
        if _comparable(tweet.expanded_text) == wanted:
            return tweet.id
    return None


X_EPOCH_MS = 1288834974657  # X's snowflake ids: (ms since this epoch) << 22 | sequence


def since_id_at(moment: datetime) -> int:
    """The smallest id X can give a tweet made at `moment`: a since_id for a time."""
    return max(int(moment.timestamp() * 1000) - X_EPOCH_MS, 1) << 22


def find_tweet(*, author_id: int, text: str, since: datetime) -> int | None:
    """The id of `author_id`'s standalone tweet (not a reply) with this text, made after
    `since`, if X already has it: find_reply's look-up for a tweet that answers no one."""
    wanted = _comparable(text)
    token: str | None = None
    for _ in range(TIMELINE_PAGES):
        page = user_tweets(author_id, since_id=since_id_at(since), pagination_token=token)
        for tweet in page.tweets:
            if tweet.in_reply_to_tweet_id is None and _comparable(tweet.expanded_text) == wanted:
                return tweet.id
        token = page.next_token
        if token is None:
            break
    return None


def conversation_events(
    participant_id: int, *, pagination_token: str | None = None, max_results: int = 100
) -> DMPage:
    """One page of the brand's one-to-one DM conversation with `participant_id`, newest
    first (GET /2/dm_conversations/with/:participant_id/dm_events)."""
    body, response = _call(
        client(user_auth=True).get_direct_message_events,
        participant_id=participant_id,
        pagination_token=pagination_token,
        max_results=max_results,
        event_types="MessageCreate",
        dm_event_fields=DM_EVENT_FIELDS,
        user_auth=True,
    )
    return _dm_page(body, response)


def find_dm(
    *, author_id: int, participant_id: int, text: str, since: datetime, skip: frozenset[int]
) -> int | None:
    """The id of `author_id`'s DM with this text to `participant_id`, sent at or after
    `since` and not in `skip`, if X already has it: the look-up before re-sending an
    uncertain attempt. Pages back no further than `since`."""
    wanted = _comparable(text)
    token: str | None = None
    for _ in range(TIMELINE_PAGES):
        page = conversation_events(participant_id, pagination_token=token)
        for message in page.messages:
            if message.created_at < since:
                return None
            if (
                message.sender_id == author_id
                and message.id not in skip
                and _comparable(message.text) == wanted
            ):
                return message.id
        token = page.next_token
        if token is None:
            break
    return None


# --- writes --------------------------------------------------------------------------------------


def create_tweet(text: str, *, in_reply_to_tweet_id: int | None = None) -> PostedTweet:
    body, response = _call(
        client(user_auth=True).create_tweet,
        text=text,
        in_reply_to_tweet_id=in_reply_to_tweet_id,
        user_auth=True,
    )
    data = body.get("data") or {}
    try:
        tweet_id, stored = int(data["id"]), html.unescape(str(data["text"]))
    except (KeyError, TypeError, ValueError):
        # X may have posted it: a Transient makes the caller look before posting again.
        raise Transient(f"X accepted the tweet but answered without its id: {body!r}") from None
    remaining, reset = rate_limit(response.headers)
    return PostedTweet(
        tweet_id,
        stored,
        rate_limit_remaining=remaining,
        rate_limit_reset=reset,
        windows=windows(response.headers),
    )


def send_dm(participant_id: int, text: str) -> PostedTweet:
    """A direct message from the brand; the returned id is the DM event's.

    DMRefused when X answers 403: the recipient does not accept DMs from the brand."""
    try:
        body, response = _call(
            client(user_auth=True).create_direct_message,
            participant_id=participant_id,
            text=text,
            user_auth=True,
        )
    except Permanent as error:
        if isinstance(error.__cause__, tweepy.Forbidden):
            raise DMRefused(str(error)) from error.__cause__
        raise
    data = body.get("data") or {}
    try:
        event_id, conversation = int(data["dm_event_id"]), str(data["dm_conversation_id"])
    except (KeyError, TypeError, ValueError):
        raise Transient(f"X accepted the message but answered without its id: {body!r}") from None
    remaining, reset = rate_limit(response.headers)
    return PostedTweet(
        event_id,
        text,
        conversation,
        rate_limit_remaining=remaining,
        rate_limit_reset=reset,
        windows=windows(response.headers),
    )


# --- plumbing -------------------------------------------------------------------------------------


def _tweet_params() -> dict[str, object]:
    return {
        "tweet_fields": TWEET_FIELDS,
        "expansions": ["author_id", "attachments.media_keys"],
        "user_fields": USER_FIELDS,
        "media_fields": MEDIA_FIELDS,
    }


def _call(
    method: Callable[..., requests.Response], *args: object, **kwargs: object
) -> tuple[dict, requests.Response]:
    """Call tweepy; translate every way it can fail into this module's errors."""
    forced = None if kwargs.pop("app_only", False) else _forced_user_auth()
    if forced is not None:
        kwargs["user_auth"] = forced
    try:
        response = method(*args, **kwargs)
    except tweepy.TooManyRequests as error:
        limits = windows(error.response.headers)
        raise RateLimited(_reset_at(error.response), str(error), limits) from error
    except tweepy.Unauthorized as error:
        raise Unauthorized(str(error)) from error
    except tweepy.Forbidden as error:
        if any("duplicate content" in message for message in error.api_messages):
            raise DuplicateContent(str(error)) from error
        if any("not been mentioned" in message for message in error.api_messages):
            raise NotSummoned(str(error)) from error
        raise Permanent(str(error)) from error
    except tweepy.HTTPException as error:
        status = error.response.status_code
        raise (Transient if status >= 500 or status == 408 else Permanent)(str(error)) from error
    except requests.RequestException as error:  # timeouts, refused connections, broken JSON
        raise Transient(f"X could not be reached: {error}") from error
    return _json(response), response


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError as error:  # requests.JSONDecodeError is a ValueError
        raise Transient(f"X sent malformed JSON (HTTP {response.status_code}): {error}") from None
    if not isinstance(body, dict):
        raise Transient(f"X sent JSON that is not an object (HTTP {response.status_code}).")
    return body


def rate_limit(headers: Mapping[str, str]) -> tuple[int | None, datetime | None]:
    """(remaining, reset) of the tightest of X's windows: the 15-minute one
    (x-rate-limit-*) or a 24-hour cap (x-app-limit-24hour-*, x-user-limit-24hour-*)."""
    windows = []
    for prefix in ("x-rate-limit", "x-app-limit-24hour", "x-user-limit-24hour"):
        remaining = _int(headers.get(f"{prefix}-remaining"))
        if remaining is not None:
            windows.append((remaining, _unix(headers.get(f"{prefix}-reset"))))
    if not windows:
        return None, None
    tightest = min(remaining for remaining, _ in windows)
    resets = [reset for remaining, reset in windows if remaining == tightest and reset]
    return tightest, max(resets, default=None)


_SPANS = {"x-rate-limit": "15min", "x-app-limit-24hour": "24h", "x-user-limit-24hour": "24h"}


def windows(headers: Mapping[str, str]) -> tuple[XWindow, ...]:
    """Every rate-limit window X's headers mention, values as sent (None where missing)."""
    found = []
    for prefix, span in _SPANS.items():
        values = [_int(headers.get(f"{prefix}-{name}")) for name in ("limit", "remaining", "reset")]
        if any(value is not None for value in values):
            found.append(XWindow(span, *values))
    return tuple(found)


def _reset_at(response: requests.Response) -> datetime:
    """When a 429 lets us try again: X's reset if believable, else one 15-minute window
    (twelp.xlimits: missing, past, negative or more than a day and a minute ahead)."""
    _, reset = rate_limit(response.headers)
    return xlimits.trusted_reset(
        int(reset.timestamp()) if reset is not None else None, timezone.now()
    )


def _page(body: dict, response: requests.Response) -> XPage:
    """Whatever shape `data`, `includes` and `meta` arrive in, never raises: what cannot be
    used is dropped (users, meta) or kept as Malformed (tweets)."""
    data = body.get("data")
    tweets, malformed = _parse_each(data if isinstance(data, list) else _list(data, [data]), _tweet)
    for item in malformed:
        log.warning("Malformed tweet from X (%s): %r", item.error, item.raw)
    meta = _dict(body.get("meta"))
    next_token = meta.get("next_token")
    remaining, reset = rate_limit(response.headers)
    media = _media_of(body)
    return XPage(
        tweets=tuple(replace(t, media=_attached(t.raw, media)) for t in tweets),
        users=_users(body),
        # A page without a usable newest_id still moves since_id past its tweets.
        newest_id=_x_id(meta.get("newest_id")) or max((t.id for t in tweets), default=None),
        oldest_id=_x_id(meta.get("oldest_id")),
        next_token=next_token if isinstance(next_token, str) and next_token else None,
        malformed=tuple(malformed),
        missing=_missing(body),
        rate_limit_remaining=remaining,
        rate_limit_reset=reset,
    )


def _parse_each(
    items: list[object], parse: Callable[[dict], _Item]
) -> tuple[list[_Item], list[Malformed]]:
    parsed: list[_Item] = []
    malformed: list[Malformed] = []
    for raw in items:
        try:
            if not isinstance(raw, dict):
                raise TypeError(f"expected an object, got {type(raw).__name__}")
            parsed.append(parse(raw))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
            reason = f"missing {error}" if isinstance(error, KeyError) else str(error)
            # A bare null is kept as its JSON text: None would be SQL NULL in the jsonb column.
            malformed.append(Malformed("null" if raw is None else storable(raw), reason))
    return parsed, malformed


def _tweet(raw: dict) -> XTweet:
    tweet = tweepy.Tweet(raw)  # KeyError without id/text; ValueError for a bad created_at
    for name in REQUIRED_TWEET_FIELDS:
        if getattr(tweet, name) is None:
            raise KeyError(name)
    if not isinstance(tweet.text, str):
        raise TypeError(f"text is a {type(tweet.text).__name__}, not a string")
    if _has_nul(raw):  # PostgreSQL stores no NUL in text or jsonb; X never sends one
        raise ValueError("a NUL character")
    in_reply_to_user = tweet.in_reply_to_user_id
    referenced = tuple(
        (str(ref.type), _checked_id(ref.id)) for ref in tweet.referenced_tweets or ()
    )
    return XTweet(
        id=_checked_id(tweet.id),
        text=html.unescape(tweet.text),
        author_id=_checked_id(tweet.author_id),
        conversation_id=_checked_id(tweet.conversation_id),
        created_at=tweet.created_at,
        in_reply_to_user_id=None if in_reply_to_user is None else _checked_id(in_reply_to_user),
        referenced=referenced,
        lang=tweet.lang if isinstance(tweet.lang, str) else None,
        raw=raw,
    )


def _direct_message(raw: dict) -> XDirectMessage:
    event = tweepy.DirectMessageEvent(raw)
    if event.text is None or event.sender_id is None or event.created_at is None:
        raise KeyError("text, sender_id or created_at")
    return XDirectMessage(
        id=event.id,
        text=event.text,
        sender_id=event.sender_id,
        conversation_id=str(raw.get("dm_conversation_id", "")),
        created_at=event.created_at,
        raw=raw,
    )


def _user(raw: object) -> XUser | None:
    if not isinstance(raw, dict) or _has_nul(raw):
        return None
    try:
        user = tweepy.User(raw)
        followers = int(_dict(user.public_metrics).get("followers_count", 0))
        return XUser(
            id=_checked_id(user.id),
            username=_text(user.username, required=True),
            name=_text(user.name),
            description=_text(user.description),
            followers_count=min(max(followers, 0), MAX_FOLLOWERS),
            verified=user.verified is True,
            profile_image_url=_text(user.profile_image_url),
            created_at=user.created_at,
            raw=raw,
        )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        # The tweet stays; its author is shown by id until X sends a usable profile.
        log.warning("Malformed user from X: %r", raw)
        return None


def _media_of(body: dict) -> dict[str, XMedia]:
    """includes.media by media_key; an entry without a key or a type is dropped."""
    found = {}
    for raw in _list(_dict(body.get("includes")).get("media")):
        item = _dict(raw)
        key, kind = item.get("media_key"), item.get("type")
        if not isinstance(key, str) or not key or not isinstance(kind, str) or _has_nul(item):
            continue
        found[key] = XMedia(
            key=key[:64],
            type=kind[:16],
            url=_str(item.get("url"))[:500],
            preview_url=_str(item.get("preview_image_url"))[:500],
            width=_size(item.get("width")),
            height=_size(item.get("height")),
            alt_text=_str(item.get("alt_text"))[:1000],
        )
    return found


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _size(value: object) -> int | None:
    found = _int(value)
    return found if found is not None and 0 < found <= 100_000 else None


def _attached(raw: Mapping[str, object], media: dict[str, XMedia]) -> tuple[XMedia, ...]:
    """The media a tweet or DM names in attachments.media_keys, in its order (X may leave
    one out of includes, e.g. when it was removed: that one is skipped)."""
    keys = _list(_dict(raw.get("attachments")).get("media_keys"))
    return tuple(media[k] for k in keys if isinstance(k, str) and k in media)


def _users(body: dict) -> dict[int, XUser]:
    users = (_user(raw) for raw in _list(_dict(body.get("includes")).get("users")))
    return {user.id: user for user in users if user is not None}


def _missing(body: dict) -> tuple[int, ...]:
    ids = []
    for error in _list(body.get("errors")):
        if isinstance(error, dict) and str(error.get("type", "")).endswith("/resource-not-found"):
            value = _int(error.get("value"))
            if value is not None:
                ids.append(value)
    return tuple(ids)


def _comparable(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    # X links bare domains too and gives them back as "http://bestbuy.com/help": compare
    # links without their scheme.
    text = _LINK_SCHEME.sub("", text)
    return " ".join(_LEADING_MENTIONS.sub("", text).split())


MAX_ID = 2**63 - 1  # X's ids are positive 64-bit snowflakes: PostgreSQL's bigint
MAX_FOLLOWERS = 2**31 - 1  # Customer.followers_count is an integer column


def _checked_id(value: object) -> int:
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if number is None or not 0 < number <= MAX_ID:
        raise ValueError(f"{value!r} is not an X id")
    return number


def _x_id(value: object) -> int | None:
    number = _int(value)
    return number if number is not None and 0 < number <= MAX_ID else None


def _text(value: object, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ValueError(f"{value!r} is not a string")
    return value


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object, default: list | None = None) -> list:
    if isinstance(value, list):
        return value
    return [] if value is None or default is None else default


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def storable(value: object) -> object:
    """`value` with NUL characters replaced, so PostgreSQL's jsonb can keep it."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _unix(value: object) -> datetime | None:
    seconds = _int(value)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC) if seconds is not None else None
    except (OverflowError, OSError, ValueError):  # an absurd header: no reset known
        return None


# --- batch compliance (X's /2/compliance/jobs; inbox.data.compliance) -------------------------


@dataclass(frozen=True)
class XComplianceJob:
    id: int
    type: str
    status: str  # created, in_progress, complete, failed, expired
    upload_url: str
    download_url: str


def create_compliance_job(kind: str, *, name: str = "") -> XComplianceJob:
    """A new job for tweet or user ids (App-only: the Bearer token)."""
    body, _ = _call(
        client(app_only=True).create_compliance_job, kind, name=name or None, app_only=True
    )
    return _compliance_job(body)


def get_compliance_job(job_id: int) -> XComplianceJob:
    body, _ = _call(client(app_only=True).get_compliance_job, job_id, app_only=True)
    return _compliance_job(body)


def upload_compliance_ids(url: str, ids: Iterable[int]) -> None:
    """PUT the ids, one a line, to the job's pre-signed upload URL: plain HTTP, as X's docs
    do (the URL is a storage bucket's, not the API's, and carries its own signature)."""
    body = "".join(f"{i}\n" for i in ids).encode()
    headers = {"Content-Type": "text/plain"}
    _storage("PUT", url, data=body, headers=headers).close()


def compliance_results(url: str) -> Iterator[str]:
    """The job's result file, line by line (newline-delimited JSON, not parsed here: a
    malformed line is the caller's to count, never a reason to lose the others)."""
    response = _storage("GET", url, stream=True)
    try:
        for line in response.iter_lines(decode_unicode=False):
            if line.strip():
                yield line.decode("utf-8", "replace")
    except requests.RequestException as error:
        raise Transient(f"The compliance file broke off: {error}") from error
    finally:
        response.close()


def _storage(method: str, url: str, **kwargs: object) -> requests.Response:
    timeout = max(settings.X_API_TIMEOUT, 60)
    try:
        response = requests.request(method, url, timeout=timeout, **kwargs)  # type: ignore[arg-type]
    except requests.RequestException as error:
        raise Transient(f"X's storage could not be reached: {error}") from error
    if response.status_code >= 500 or response.status_code == 408:
        response.close()
        raise Transient(f"X's storage answered HTTP {response.status_code}.")
    if response.status_code >= 400:
        response.close()
        raise Permanent(f"X's storage refused it: HTTP {response.status_code}.")
    return response


def _compliance_job(body: dict) -> XComplianceJob:
    data = _dict(body.get("data"))
    job_id = _x_id(data.get("id"))
    try:
        if job_id is None:
            raise ValueError(f"{data.get('id')!r} is not a job id")
        return XComplianceJob(
            id=job_id,
            type=_text(data.get("type"), required=True),
            status=_text(data.get("status"), required=True),
            upload_url=_text(data.get("upload_url"), required=True),
            download_url=_text(data.get("download_url"), required=True),
        )
    except (ValueError, TypeError) as error:
        raise Transient(f"X answered a compliance job malformed: {error}") from error


# --- OAuth 2.0 with PKCE: an X account proves who it is (Sign in with X) ---------------------

OAUTH2_SCOPES = ("tweet.read", "users.read")  # what users/me needs, nothing more
_TWEEPY_AUTHORIZE = "https://twitter.com/i/oauth2/authorize"
_TOKEN_URL = "https://api.x.com/2/oauth2/token"  # noqa: S105 - a URL, not a secret


@dataclass(frozen=True)
class OAuth2Start:
    url: str  # X's consent page, with the PKCE challenge and `state`
    state: str
    code_verifier: str  # kept by the caller (the session) until the callback


class _OAuth2Handler(tweepy.OAuth2UserHandler):
    """tweepy's PKCE handler; its fixed X URLs reach X_API_BASE_URL (the sandbox or X)."""

    def request(self, method, url, data=None, headers=None, files=None, **kwargs):  # type: ignore[override]
        """Only the token exchange comes here (its token withheld): https is checked on X's
        URL, as requests-oauthlib does, then it is sent to X_API_BASE_URL."""
        if not is_secure_transport(url):
            raise InsecureTransportError()
        for name in ("withhold_token", "client_id", "client_secret"):
            kwargs.pop(name, None)
        kwargs.setdefault("timeout", settings.X_API_TIMEOUT)
        target = XSession(settings.X_API_BASE_URL, settings.X_API_TIMEOUT).rewrite(url)
        return requests.Session.request(
            self, method, target, data=data, headers=headers, files=files, **kwargs
        )


def _oauth2_handler(redirect_uri: str, scopes: tuple[str, ...]) -> _OAuth2Handler:
    if not settings.X_OAUTH2_CLIENT_ID:
        raise ImproperlyConfigured("X_OAUTH2_CLIENT_ID is not set: Sign in with X is off.")
    return _OAuth2Handler(
        client_id=settings.X_OAUTH2_CLIENT_ID,
        redirect_uri=redirect_uri,
        scope=list(scopes),
        client_secret=settings.X_OAUTH2_CLIENT_SECRET or None,
    )


def oauth2_start(redirect_uri: str, scopes: tuple[str, ...] = OAUTH2_SCOPES) -> OAuth2Start:
    """Where to send the person: X's consent page (tweepy makes the verifier, its S256
    challenge and the state)."""
    handler = _oauth2_handler(redirect_uri, scopes)
    url = handler.get_authorization_url()
    url = settings.X_OAUTH2_AUTHORIZE_URL + url.removeprefix(_TWEEPY_AUTHORIZE)
    return OAuth2Start(url, handler._state, handler._client.code_verifier)


def _exchange_code(
    redirect_uri: str, code: str, code_verifier: str, scopes: tuple[str, ...], *, refused: str
) -> dict:
    """OAuth 2.0's code (with its PKCE verifier) for X's token answer; X's refusal is
    Permanent ("X refused <refused>: ..."), no answer Transient."""
    handler = _oauth2_handler(redirect_uri, scopes)
    try:
        # OAuth2Session's own fetch_token: tweepy's wants the whole callback URL over https.
        return OAuth2Session.fetch_token(
            handler,
            _TOKEN_URL,
            code=code,
            auth=handler.auth,
            include_client_id=True,
            code_verifier=code_verifier,
        )
    except OAuth2Error as error:
        raise Permanent(f"X refused {refused}: {error.description or error.error}") from error
    except requests.RequestException as error:
        raise Transient(f"X could not be reached: {error}") from error


def oauth2_user(
    redirect_uri: str, code: str, code_verifier: str, scopes: tuple[str, ...] = OAUTH2_SCOPES
) -> XUser:
    """The X account that approved: the code (with its PKCE verifier) for a user token, then
    users/me with it. The caller has checked `state` already."""
    token = _exchange_code(redirect_uri, code, code_verifier, scopes, refused="the sign-in")
    user_client = tweepy.Client(bearer_token=token["access_token"], return_type=requests.Response)
    user_client.session = XSession(settings.X_API_BASE_URL, settings.X_API_TIMEOUT)
    body, _ = _call(user_client.get_me, user_auth=False, user_fields=USER_FIELDS)
    user = _user(body.get("data"))
    if user is None:
        raise Transient("X answered users/me without a usable user.")
    return user


# --- OAuth 2.0 for a brand account: connect, refresh, revoke (inbox.configure.credentials) ---


@dataclass(frozen=True)
class OAuth2Token:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)  # "" without offline.access
    expires_at: datetime
    scopes: tuple[str, ...]


def _oauth2_token(token: Mapping[str, object]) -> OAuth2Token:
    try:
        access = str(token["access_token"])
        seconds = int(token.get("expires_in") or 7200)  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        raise Transient("X answered the token request without an access token.") from None
    seconds = min(max(seconds, 60), 86400)  # clamped: an absurd expiry is not trusted
    scope = token.get("scope") or ""
    scopes = tuple(scope.split() if isinstance(scope, str) else scope)  # type: ignore[arg-type]
    refresh = token.get("refresh_token") or ""
    return OAuth2Token(access, str(refresh), timezone.now() + timedelta(seconds=seconds), scopes)


def oauth2_connect(
    redirect_uri: str, code: str, code_verifier: str, scopes: tuple[str, ...]
) -> tuple[XUser, OAuth2Token]:
    """A brand account's approval: the code (with its PKCE verifier) for its user token and
    refresh token, then users/me with it (who approved). The caller has checked `state`."""
    raw = _exchange_code(redirect_uri, code, code_verifier, scopes, refused="the connection")
    token = _oauth2_token(raw)
    with acting_for(_NoTraining(), Credentials("oauth2", token.access_token)):
        return get_me(), token


def oauth2_refresh(refresh_token: str, scopes: tuple[str, ...]) -> OAuth2Token:
    """A new access token (and X's rotated refresh token) for an expiring one.
    Permanent (invalid_grant, 400) when X no longer honours the refresh token: revoked,
    spent, or the app's access removed."""
    handler = _oauth2_handler("", scopes)
    try:
        raw = OAuth2Session.refresh_token(
            handler,
            _TOKEN_URL,
            refresh_token=refresh_token,
            auth=handler.auth,
            client_id=settings.X_OAUTH2_CLIENT_ID,
        )
    except OAuth2Error as error:
        raise Permanent(f"X refused the refresh: {error.description or error.error}") from error
    except requests.RequestException as error:
        raise Transient(f"X could not be reached: {error}") from error
    return _oauth2_token(raw)


_REVOKE_URL = "https://api.x.com/2/oauth2/revoke"


def oauth2_revoke(token: str, hint: str) -> None:
    """X's POST /2/oauth2/revoke: `token` (hint "refresh_token" or "access_token") answers
    no more. Revoking a refresh token ends the grant; the caller revokes the access token
    after it as well, as X asks. Permanent when X refuses it (4xx), Transient when X cannot
    be reached, times out or fails (5xx): either way the caller says X was not told."""
    if not settings.X_OAUTH2_CLIENT_ID:
        raise Permanent("X_OAUTH2_CLIENT_ID is not set, so X cannot be asked to revoke.")
    secret = settings.X_OAUTH2_CLIENT_SECRET
    form = {"token": token, "token_type_hint": hint, "client_id": settings.X_OAUTH2_CLIENT_ID}
    session = XSession(settings.X_API_BASE_URL, settings.X_API_TIMEOUT)
    try:
        response = session.post(
            _REVOKE_URL, data=form, auth=(settings.X_OAUTH2_CLIENT_ID, secret) if secret else None
        )
    except requests.RequestException as error:
        raise Transient(f"X could not be reached: {error.__class__.__name__}") from error
    if response.ok:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    said = body.get("error_description") or body.get("detail") if isinstance(body, dict) else ""
    problem = f"X answered HTTP {response.status_code}" + (f": {said}" if said else "")
    raise (Transient if response.status_code >= 500 else Permanent)(problem)


class _NoTraining:
    training_for_id = None
