"""X API v2's wire format: query parameters in, JSON objects and error bodies out.

Shapes follow X's documentation and the responses recorded in tweepy's test cassettes:
ids are numeric strings, times are `2022-10-07T22:42:12.000Z`, a tweet always has `id`,
`text` and `edit_history_tweet_ids`, and optional fields are left out rather than null.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from twelp.xsandbox.models import Account, DirectMessage, Tweet

PROBLEMS = "https://api.twitter.com/2/problems"


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Every name X accepts in each parameter (as its API reference lists them); the sandbox
# serves the subset it has data for and leaves the rest out, as X leaves out absent fields.
TWEET_FIELDS = _names(
    "article attachments author_id card_uri community_id context_annotations conversation_id "
    "created_at display_text_range edit_controls edit_history_tweet_ids entities geo id "
    "in_reply_to_user_id lang media_metadata non_public_metrics note_tweet organic_metrics "
    "possibly_sensitive promoted_metrics public_metrics referenced_tweets reply_settings "
    "scopes source text withheld"
)
USER_FIELDS = _names(
    "affiliation confirmed_email connection_status created_at description entities id "
    "is_identity_verified location most_recent_tweet_id name parody pinned_tweet_id "
    "profile_banner_url profile_image_url protected public_metrics receives_your_dm "
    "subscription subscription_type url username verified verified_followers_count "
    "verified_type withheld"
)
DM_EVENT_FIELDS = _names(
    "attachments created_at dm_conversation_id entities event_type id participant_ids "
    "referenced_tweets sender_id text"
)
TWEET_EXPANSIONS = _names(
    "article.cover_media article.media_entities attachments.media_keys "
    "attachments.media_source_tweet attachments.poll_ids author_id edit_history_tweet_ids "
    "entities.mentions.username entities.note.mentions.username geo.place_id "
    "in_reply_to_user_id referenced_tweets.id referenced_tweets.id.attachments.media_keys "
    "referenced_tweets.id.author_id"
)
USER_EXPANSIONS = _names("affiliation.user_id most_recent_tweet_id pinned_tweet_id")
DM_EXPANSIONS = _names("attachments.media_keys participant_ids referenced_tweets.id sender_id")
MEDIA_FIELDS = _names(
    "alt_text duration_ms height media_key non_public_metrics organic_metrics preview_image_url "
    "promoted_metrics public_metrics type url variants width"
)
PLACE_FIELDS = _names("contained_within country country_code full_name geo id name place_type")
POLL_FIELDS = _names("duration_minutes end_datetime id options voting_status")

_SNOWFLAKE = re.compile(r"^[0-9]{1,19}$")
_RFC3339 = "%Y-%m-%dT%H:%M:%SZ"


class InvalidRequest(Exception):
    """A 400 in X's invalid-request shape, naming the parameter at fault."""

    def __init__(self, message: str, parameter: str | None = None, value: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.parameter = parameter
        self.value = value

    def body(self) -> dict[str, object]:
        error: dict[str, object] = {"message": self.message}
        if self.parameter:
            error["parameters"] = {self.parameter: [self.value]}
        return {
            "errors": [error],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": f"{PROBLEMS}/invalid-request",
        }


def problem(status: int, title: str, detail: str | None = None, kind: str = "") -> dict:
    """X's problem object for 401/403/429/5xx (and 403s such as duplicate content)."""
    return {
        "title": title,
        "detail": detail or title,
        "type": f"{PROBLEMS}/{kind}" if kind else "about:blank",
        "status": status,
    }


def not_found(resource: str, parameter: str, value: str) -> dict[str, str]:
    """One entry of a lookup's `errors` array: X answers 200 and lists what it lacks."""
    return {
        "value": value,
        "detail": f"Could not find {resource} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource,
        "parameter": parameter,
        "resource_id": value,
        "type": f"{PROBLEMS}/resource-not-found",
    }


def timestamp(moment: datetime) -> str:
    """2022-10-07T22:42:12.000Z: always milliseconds, as tweepy's parser requires."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --- query parameters --------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """The query string of one call, read the way X validates it."""

    values: Mapping[str, str]

    def check_known(self, allowed: Iterable[str]) -> None:
        allowed = sorted(allowed)
        for name in self.values:
            if name not in allowed:
                raise InvalidRequest(
                    f"The query parameter [{name}] is not one of [{','.join(allowed)}]", name
                )

    def text(self, name: str, *, required: bool = False) -> str:
        value = self.values.get(name, "")
        if required and not value.strip():
            raise InvalidRequest(f"The `{name}` query parameter can not be empty", name)
        return value

    def snowflake(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None:
            return None
        if not _SNOWFLAKE.match(value):
            raise InvalidRequest(
                f"The `{name}` query parameter value [{value}] does not match ^[0-9]{{1,19}}$",
                name,
                value,
            )
        return int(value)

    def snowflakes(self, name: str, *, most: int) -> list[int]:
        raw = self.text(name, required=True)
        items = raw.split(",")
        if len(items) > most:
            raise InvalidRequest(
                f"The `{name}` query parameter value [{raw}] is not between 1 and {most}",
                name,
                raw,
            )
        for item in items:
            Params({name: item}).snowflake(name)
        return [int(item) for item in items]

    def bounded(self, name: str, low: int, high: int, default: int) -> int:
        value = self.values.get(name)
        if value is None:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            raise InvalidRequest(
                f"The `{name}` query parameter value [{value}] is not between {low} and {high}",
                name,
                value,
            )
        return int(value)

    def time(self, name: str) -> datetime | None:
        value = self.values.get(name)
        if value is None:
            return None
        try:
            return datetime.strptime(value, _RFC3339).replace(tzinfo=UTC)
        except ValueError:
            raise InvalidRequest(
                f"The `{name}` query parameter value [{value}] is not a valid RFC 3339 time "
                "(YYYY-MM-DDTHH:mm:ssZ)",
                name,
                value,
            ) from None

    def choices(self, name: str, allowed: frozenset[str]) -> frozenset[str]:
        raw = self.values.get(name, "")
        chosen = frozenset(item for item in raw.split(",") if item)
        unknown = sorted(chosen - allowed)
        if unknown:
            raise InvalidRequest(
                f"The `{name}` query parameter value [{unknown[0]}] is not one of "
                f"[{','.join(sorted(allowed))}]",
                name,
                unknown[0],
            )
        return chosen


# --- pagination tokens ---------------------------------------------------------------------


@dataclass(frozen=True)
class PageToken:
    """Opaque to clients: "older than id" (next_token) or "newer than id" (previous_token)."""

    older: bool
    boundary: int

    def encode(self) -> str:
        raw = f"{'n' if self.older else 'p'}{self.boundary}".encode()
        return base64.b32encode(raw).decode().rstrip("=").lower()

    @classmethod
    def decode(cls, name: str, token: str) -> PageToken:
        try:
            raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8)).decode()
        except (binascii.Error, UnicodeDecodeError):
            raw = ""
        if raw[:1] in ("n", "p") and raw[1:].isdigit():
            return cls(older=raw[0] == "n", boundary=int(raw[1:]))
        raise InvalidRequest(
            f"The `{name}` query parameter value [{token}] is not a valid token", name, token
        )


# --- objects --------------------------------------------------------------------------------


def escape_text(text: str) -> str:
    """X's API escapes &, < and > in tweet text (and only those): clients must unescape."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def tweet(item: Tweet, fields: frozenset[str]) -> dict[str, object]:
    data: dict[str, object] = {
        "id": str(item.id),
        "text": escape_text(item.text),
        "edit_history_tweet_ids": [str(item.id)],
    }
    optional: dict[str, object | None] = {
        "author_id": str(item.author_id),
        "conversation_id": str(item.conversation_id),
        "created_at": timestamp(item.created_at),
        "in_reply_to_user_id": str(item.in_reply_to_user_id) if item.in_reply_to_user_id else None,
        "referenced_tweets": item.referenced_tweets or None,
        "entities": item.entities or None,
        "lang": item.lang,
        "attachments": {"media_keys": [m["key"] for m in item.media]} if item.media else None,
        "public_metrics": {
            "retweet_count": item.retweet_count,
            "reply_count": item.reply_count,
            "like_count": item.like_count,
            "quote_count": item.quote_count,
            "bookmark_count": 0,
            "impression_count": 0,
        },
    }
    data.update({k: v for k, v in optional.items() if k in fields and v is not None})
    return data


def user(
    account: Account, fields: frozenset[str], *, viewer: Account | None = None
) -> dict[str, object]:
    """X's user object. `receives_your_dm` says whether `viewer` (the user-context caller)
    may DM this account (Account.accepts_dms_from); X omits it for an app-only caller."""
    data: dict[str, object] = {
        "id": str(account.id),
        "name": account.name,
        "username": account.username,
    }
    optional: dict[str, object] = {
        "created_at": timestamp(account.created_at),
        "description": account.description,
        "location": account.location or None,
        "verified": account.verified,
        "verified_type": "business" if account.kind == Account.Kind.BRAND else "none",
        "profile_image_url": account.profile_image_url or None,
        "protected": False,
        "public_metrics": {
            "followers_count": account.followers_count,
            "following_count": account.following_count,
            "tweet_count": account.tweet_count,
            "listed_count": account.listed_count,
            "like_count": 0,
        },
    }
    if viewer is not None and viewer.pk != account.pk:
        optional["receives_your_dm"] = account.accepts_dms_from(viewer)
    data.update({k: v for k, v in optional.items() if k in fields and v is not None})
    return data


def dm_event(message: DirectMessage, fields: frozenset[str]) -> dict[str, object]:
    data: dict[str, object] = {
        "id": str(message.id),
        "event_type": "MessageCreate",
        "text": message.text,
    }
    optional = {
        "created_at": timestamp(message.created_at),
        "dm_conversation_id": message.conversation_id,
        "sender_id": str(message.sender_id),
    }
    data.update({k: v for k, v in optional.items() if k in fields})
    if message.media and "attachments" in fields:
        data["attachments"] = {"media_keys": [m["key"] for m in message.media]}
    return data


def media(entry: dict[str, object], fields: frozenset[str], base: str) -> dict[str, object]:
    """One includes.media object. X always sends media_key and type; a photo's url (and a
    video's preview_image_url) are on X's media host, here the sandbox's own /media/."""
    key = str(entry["key"])
    data: dict[str, object] = {"media_key": key, "type": entry.get("type", "photo")}
    link = f"{base.rstrip('/')}/media/{key}.png"
    optional = {
        "url": link if data["type"] == "photo" else None,
        "preview_image_url": link if data["type"] != "photo" else None,
        "width": entry.get("width"),
        "height": entry.get("height"),
        "alt_text": entry.get("alt_text") or None,
    }
    data.update({k: v for k, v in optional.items() if k in fields and v is not None})
    return data
