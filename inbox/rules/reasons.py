"""Why something did not happen, stored as a code and rendered in the reader's language
(issue 21).

1. A reason is a small dict, `{"code": ..., **params}`, stored as data (OutboxRow.last_reason,
   an Event's `why`). Its params are data, never sentences of ours: @handles, a count, and
   X's own words (`detail`) kept verbatim (X speaks English; we do not translate it).
2. `words(reason)` writes the sentence in the active language, at display time. A reason
   written before codes existed is a plain English string: `words` recognises the
   sentences Twelp used to store (`parse`) and renders them too; anything else is shown
   as it was (old rows stay readable).
3. `english(reason)` is the same sentence in English: what `last_error` keeps for
   operators, logs and the API.
4. An unknown code (a newer writer, an older reader) shows its `detail`, else the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from inbox.rules import pii

Reason = dict[str, Any]


def make(code: str, **params: Any) -> Reason:
    return {"code": code, **{k: v for k, v in params.items() if v not in (None, "")}}


def _handle_and_brand(sentence: str) -> Callable[[Mapping[str, Any]], str]:
    def render(p: Mapping[str, Any]) -> str:
        return _(sentence) % {"handle": p.get("handle", "?"), "brand": p.get("brand", "?")}

    return render


def _handle_only(sentence: str) -> Callable[[Mapping[str, Any]], str]:
    def render(p: Mapping[str, Any]) -> str:
        return _(sentence) % {"handle": p.get("handle", "?")}

    return render


def _with_detail(sentence: str) -> Callable[[Mapping[str, Any]], str]:
    """A sentence of ours followed by X's own words."""

    def render(p: Mapping[str, Any]) -> str:
        return _(sentence) % {"detail": p.get("detail", "")}

    return render


def _said(sentence: str) -> Callable[[Mapping[str, Any]], str]:
    """A sentence without params."""
    return lambda p: _(sentence)


def _dm_not_sent(p: Mapping[str, Any]) -> str:
    said = _("Not posted: the DM it announces was not sent, so nothing public says it was.")
    dm = p.get("dm")
    return f"{said} {words(dm) if dm else _('The DM was discarded.')}"


def _attempts_spent(p: Mapping[str, Any]) -> str:
    n = int(p.get("attempts", 0))
    return ngettext(
        "X did not accept it after %(n)s attempt.", "X did not accept it after %(n)s attempts.", n
    ) % {"n": n}


def _no_account(p: Mapping[str, Any]) -> str:
    return _(
        "@%(brand)s has no X account connected, so it is not polled and nothing is posted "
        "from it: an admin connects it under Admin → X account."
    ) % {"brand": p.get("brand", "?")}


def _revoked(p: Mapping[str, Any]) -> str:
    return _(
        "X refused @%(brand)s's credentials on %(when)s UTC (%(detail)s): its polling and "
        "posting are stopped until an admin connects the account again under Admin → X account."
    ) % {"brand": p.get("brand", "?"), "when": p.get("when", "?"), "detail": p.get("detail", "")}


def _personal_data(p: Mapping[str, Any]) -> str:
    kinds = ", ".join(sorted(str(pii.LABELS.get(k, k)) for k in p.get("kinds", [])))
    return _(
        "It looks like it carries personal data (%(kinds)s): not repeated from the brand; "
        "answer by DM in Twelp."
    ) % {"kinds": kinds}


def _too_long(p: Mapping[str, Any]) -> str:
    return _(
        "Too long for X with the credit%(credit)s (%(length)s/%(max)s); not relayed, never "
        "truncated: answer the customer in Twelp."
    ) % {"credit": p.get("credit", ""), "length": p.get("length", "?"), "max": p.get("max", "?")}


def _bad_hashtag(p: Mapping[str, Any]) -> str:
    return _(
        "The relay hashtag “%(hashtag)s” cannot be searched on X (a hashtag is letters, digits "
        "and _, not only digits): an admin sets it in the brand's settings."
    ) % {"hashtag": p.get("hashtag", "")}


_HANDLE = r"@?(?P<%s>\w{1,15})"


@dataclass(frozen=True)
class Code:
    """One reason: how it is said (`render`, in the active language) and, for a reason
    Twelp once stored as an English sentence, how that sentence is recognised (`parse`):
    `stored`, a pattern whose groups are the params; `exact`, today's English sentence
    of a reason without params, matched whole."""

    render: Callable[[Mapping[str, Any]], str]
    stored: str = ""
    exact: bool = False


def _stored(pattern: str) -> str:
    """X's words (`detail`) after a sentence of ours, to the end of the text."""
    return pattern + r"(?P<detail>.*)\Z"


# Every reason's code, in one table (docstring, 1): the outbox's and the pollers', then
# the hashtag relay's refusals (inbox.ingest.relay), shown in the audit trail.
CODES: dict[str, Code] = {
    "dm_refused": Code(
        _handle_and_brand(
            gettext_noop(
                "X refused the DM: @%(handle)s does not accept direct messages from @%(brand)s "
                "(they neither follow it nor accept DMs from anyone). Nothing was sent; your "
                "text is kept. Answer in public, or ask them to follow @%(brand)s or to DM "
                "you first."
            )
        ),
        stored=r"X refused the DM: " + _HANDLE % "handle" + r" does not accept direct "
        r"messages from " + _HANDLE % "brand",
    ),
    "not_summoned": Code(
        _handle_and_brand(
            gettext_noop(
                "X refused the public reply (403): @%(handle)s's post never mentioned or "
                "quoted @%(brand)s, and X lets a self-serve app reply only to posts that do. "
                "Your text is kept: send it by DM instead."
            )
        ),
        stored=r"X refused the public reply \(403\): " + _HANDLE % "handle" + r"'s post "
        r"never mentioned or quoted " + _HANDLE % "brand",
    ),
    "x_forbidden": Code(
        _with_detail(gettext_noop("X refused the reply (403 Forbidden): %(detail)s")),
        stored=_stored(r"X refused the reply \(403 Forbidden\): "),
    ),
    "x_refused": Code(
        _with_detail(gettext_noop("X refused the reply: %(detail)s")),
        stored=_stored(r"X refused the reply: "),
    ),
    "tweet_refused": Code(
        _with_detail(gettext_noop("X refused the tweet: %(detail)s")),
        stored=_stored(r"X refused the tweet: "),
    ),
    "x_unavailable": Code(
        _with_detail(gettext_noop("X did not answer: %(detail)s")),
        stored=_stored(r"(?:Transient|X did not answer): "),
    ),
    "dm_not_sent": Code(_dm_not_sent),  # parsed by its prefix (parse)
    "attempts_spent": Code(
        _attempts_spent, stored=r"X did not accept it after (?P<attempts>\d+) attempts\.\Z"
    ),
    "lookup_rate_limited": Code(
        _said(gettext_noop("X rate-limited the look-up; it is tried again later.")),
        stored=r"Look-up rate-limited by X\Z",
        exact=True,
    ),
    "posting_paused": Code(
        _said(gettext_noop("Posting paused by X until its limit resets.")),
        stored=r"Posting paused by X\Z",
        exact=True,
    ),
    "no_account": Code(
        _no_account, stored=_HANDLE % "brand" + r" has no X account connected, so it is not polled"
    ),
    "credentials_revoked": Code(_revoked),
    "rate_limited": Code(
        lambda p: _("Rate limited by X until %(until)s UTC") % {"until": p.get("until", "?")},
        stored=r"Rate limited by X until (?P<until>[\d:]+) UTC\Z",
    ),
    "x_request_refused": Code(
        _with_detail(gettext_noop("X refused the request: %(detail)s")),
        stored=_stored(r"(?:Permanent|X refused the request): "),
    ),
    "credentials": Code(
        _with_detail(gettext_noop("X refused the account's credentials: %(detail)s")),
        stored=_stored(r"Unauthorized: "),
    ),
    "relay_bad_hashtag": Code(_bad_hashtag),
    "relay_not_employee": Code(
        _handle_only(gettext_noop("@%(handle)s is not a registered employee."))
    ),
    "relay_pending": Code(
        _handle_only(gettext_noop("@%(handle)s's registration is waiting for approval."))
    ),
    "relay_rejected": Code(_handle_only(gettext_noop("@%(handle)s's registration was rejected."))),
    "relay_deactivated": Code(_handle_only(gettext_noop("@%(handle)s is a deactivated employee."))),
    "relay_not_reply": Code(
        _said(gettext_noop("It is not a reply: the relay only answers customers.")), exact=True
    ),
    "relay_parent_missing": Code(
        _said(gettext_noop("The tweet it answers is not available on X.")), exact=True
    ),
    "relay_not_customer": Code(
        _said(gettext_noop("It answers the brand or an employee, not a customer.")), exact=True
    ),
    "relay_empty": Code(
        _said(gettext_noop("There is nothing to relay besides the hashtag.")), exact=True
    ),
    "relay_personal_data": Code(_personal_data),
    "relay_too_long": Code(_too_long),
}
_PATTERNS = {code: re.compile(c.stored, re.S) for code, c in CODES.items() if c.stored}

# Why an employee's threads were handed back (Event detail "reason", a code since the start).
RELEASED = {
    "away": gettext_noop("away"),
    "offline": gettext_noop("offline"),
    "training": gettext_noop("sent to training"),
    "ready": gettext_noop("marked ready"),
    "switched brand": gettext_noop("switched brand"),
}


def words(reason: Reason | str | None) -> str:
    """The reason as a sentence in the active language (docstring, 2 and 4)."""
    if not reason:
        return ""
    if isinstance(reason, str):
        if reason in RELEASED:
            return _(RELEASED[reason])
        parsed = parse(reason)
        return words(parsed) if parsed else reason
    code = CODES.get(str(reason.get("code")))
    if code is None:
        return str(reason.get("detail") or reason.get("code") or "")
    return code.render(reason)


def english(reason: Reason | str | None) -> str:
    with translation.override("en"):
        return words(reason)


# --- the English sentences stored before codes (migration 0037 and old Events) --------

_NOTE = "Not posted: the DM it announces was not sent, so nothing public says it was. "


def parse(text: str) -> Reason | None:
    """The code and params of a sentence Twelp stored in English before codes; None if
    it is not one of them (e.g. cut short, or X's words alone)."""
    text = text.strip()
    if text.startswith(_NOTE):
        rest = text[len(_NOTE) :]
        return make(
            "dm_not_sent", dm=None if rest == "The DM was discarded." else parse(rest) or rest
        )
    for code, known in CODES.items():  # their sentence today, in English
        if known.exact and text == english(make(code)):
            return make(code)
    for code, pattern in _PATTERNS.items():
        if found := pattern.match(text):
            params = found.groupdict()
            if "attempts" in params:
                params["attempts"] = int(params["attempts"])
            return make(code, **params)
    return None


# --- notifications (inbox.notifications): their sentence, from their kind and params ---


def notice(kind: str, params: Mapping[str, Any]) -> str:
    """A notification's words in the active language (Notification.params, issue 21)."""
    handle = params.get("handle", "?")
    if kind in ("reply_failed", "dm_refused"):
        if kind == "dm_refused":
            said = _("X refused your DM to @%(handle)s") % {"handle": handle}
        else:
            said = _("X refused your reply to @%(handle)s") % {"handle": handle}
        why = " ".join(words(params.get("reason")).split())[:140]
        said += f" ({why})." if why else "."
        return said + " " + _("Your words are back in the reply box: change them and send again.")
    if kind == "mentioned":
        return _("%(name)s mentioned you in a note on @%(handle)s's thread.") % {
            "name": params.get("name", "?"),
            "handle": handle,
        }
    if kind == "assigned":
        return _("A thread with @%(handle)s came to you (you are Available).") % {"handle": handle}
    if kind == "reassigned":
        return _("%(name)s assigned you the thread with @%(handle)s.") % {
            "name": params.get("name", "?"),
            "handle": handle,
        }
    return ""
