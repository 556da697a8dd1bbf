"""Filters for the supervisors' pages and the queue's SLA marks."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inbox.models import RoutingRule
from inbox.rules import priority, reasons, sla

if TYPE_CHECKING:
    from inbox.models import Brand, Event, Thread

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """42 s, 4 min 5 s, 1 h 20 min, 2 d 3 h; an em dash for no value."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs and minutes < 10 else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.filter
def since(moment, now) -> float | None:
    """Seconds from `moment` to `now` (for `duration`); None for no moment (also a
    template's missing value, "")."""
    if not moment or now is None:
        return None
    return max((now - moment).total_seconds(), 0.0)


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


@register.filter
def sla_state(thread: Thread, brand: Brand) -> str:
    """'breach', 'near' or '' against the brand's first-response target (business hours)."""
    if brand is None or thread is None:
        return ""
    return sla.for_brand(brand).state(thread)


@register.filter
def get(mapping: dict, key: object) -> object:
    return (mapping or {}).get(key, 0)


@register.simple_tag
def priority_level(score: int) -> SafeString:
    """<span class="level high" title="Priority score 30">High</span>."""
    key, label = priority.level(score or 0)
    return format_html(
        '<span class="level {}" title="{}">{}</span>',
        key,
        _("Priority score %(score)s") % {"score": score},
        label,
    )


@register.filter
def waited(since: datetime | None) -> str:
    """How long a customer has waited: "just now" under a minute, else "4 min", "2 h 5 min"."""
    return waited_at(since, timezone.now())


def waited_at(since: datetime | None, now: datetime) -> str:
    """`waited` as of `now` (a page of rows reads the clock once)."""
    if since is None:
        return "—"
    seconds = (now - since).total_seconds()
    return _("just now") if seconds < 60 else duration(seconds)


@register.filter
def sla_due(thread: Thread, brand: Brand) -> str:
    """For a thread nearing the response target: the time left ("due in 4 min")."""
    cutoffs = sla.for_brand(brand).cutoffs
    if cutoffs.breach is None or thread.waiting_since is None:
        return ""
    left = (thread.waiting_since - cutoffs.breach).total_seconds()
    if left > 0:
        return _("due in %(time)s") % {"time": duration(max(left, 60))}
    return _("past target")


# --- the audit trail in plain words ("Jane Doe claimed", "a note mentioning John Dunn") ----

# What the actor did, as a phrase after their name ("Jane Doe claimed the thread").
PHRASES = {
    "claimed": gettext_lazy("claimed the thread"),
    "released": gettext_lazy("released the thread"),
    "reassigned": gettext_lazy("reassigned the thread"),
    "replied": gettext_lazy("replied"),
    "moved_to_dm": gettext_lazy("moved the answer to DM"),
    "closed": gettext_lazy("closed the thread"),
    "noted": gettext_lazy("added a note"),
    "dismissed": gettext_lazy("dismissed it as noise"),
    "muted": gettext_lazy("muted the customer"),
    "blocked": gettext_lazy("blocked the customer"),
    "tagged": gettext_lazy("tagged the customer"),
    "untagged": gettext_lazy("removed a tag"),
    "reply_retried": gettext_lazy("sent the failed reply again"),
    "reply_discarded": gettext_lazy("discarded the failed reply"),
}
# System events read as sentences; an actor, if any, follows in brackets.
SENTENCES = {
    "lease_expired": gettext_lazy("The claim expired"),
    "reopened": gettext_lazy("The customer wrote again: reopened"),
    "reply_posted": gettext_lazy("The reply was posted"),
    "reply_failed": gettext_lazy("X refused the reply"),
    "auto_replied": gettext_lazy("The auto-reply was queued"),
    "auto_reply_posted": gettext_lazy("The auto-reply was posted"),
}
AGENT_KEYS = {
    "holder": gettext_lazy("held by"),
    "to": gettext_lazy("to"),
    "before": gettext_lazy("from"),
}
QUIET_KEYS = {"note", "reply", "dm_reply", "id", "message", "proposal"}


# What the `routed` sentence says already (the team by its name; the rule by `matched`).
ROUTED_KEYS = {"team", "rule", "reopened"}


def team_name(team_id: object, teams: dict[int, str] | None) -> str:
    """A team by its name; one deleted since (its Events keep only its id) by its number."""
    try:
        return (teams or {})[int(team_id)]  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        return _("#%(id)s (deleted since)") % {"id": team_id}


@register.simple_tag
def event_words(
    event: Event, names: dict[int, str], handle: str, teams: dict[int, str] | None = None
) -> SafeString:
    """The event as a sentence: "Jane Doe claimed the thread (Claim next)", "Jane Doe added a
    note mentioning John Dunn", "The reply was posted (view on X)", "Routed to the team
    Billing" (`teams`: the brand's team names by id)."""
    detail = event.detail or {}
    actor = event.actor.name if event.actor is not None else None
    sentence = SENTENCES.get(event.verb)
    if actor and event.verb == "reply_posted":
        parts = [format_html(_("{name}’s reply was posted"), name=_strong(actor))]
    elif event.verb == "routed":
        team = _strong(team_name(detail.get("team"), teams))
        said = _("Routed to the team {team}")
        if detail.get("reopened"):
            said = _("The customer wrote again: routed to the team {team}")
        parts = [format_html(said, team=team)]
    elif sentence is not None:
        parts = [format_html("{} ({})", sentence, _strong(actor)) if actor else sentence]
    else:
        phrase = PHRASES.get(event.verb) or event.get_verb_display().lower()
        parts = [format_html("{} {}", _strong(actor or "Twelp"), phrase)]
    mentioned = [
        names.get(int(i), _("employee #%(id)s") % {"id": i}) for i in detail.get("mentions") or []
    ]
    if mentioned:
        parts.append(_("mentioning %(names)s") % {"names": ", ".join(mentioned)})
    for key, label in AGENT_KEYS.items():
        if detail.get(key):
            parts.append(format_html("{} {}", label, names.get(int(detail[key]), _("someone"))))
    if detail.get("next"):
        parts.append(_("(with Claim next)"))
    if detail.get("tag"):
        parts.append(format_html("“{}”", detail["tag"]))
    if detail.get("x_id"):
        parts.append(
            format_html(
                '(<a href="https://x.com/{}/status/{}" rel="noopener noreferrer">{}</a>)',
                handle,
                detail["x_id"],
                _("view on X"),
            )
        )
    if why := reasons.words(detail.get("why") or detail.get("reason")):
        parts.append(format_html("· {}", why))
    return format_html_join(" ", "{}", ((part,) for part in parts))


# The other details' names in the reader's language; the values are data (names, ids,
# codes) and stay as recorded. A key missing here shows as it is, its "_" as spaces.
DETAIL_LABELS = {
    "added": gettext_lazy("added"),
    "after": gettext_lazy("after"),
    "agent": gettext_lazy("employee"),
    "author": gettext_lazy("author"),
    "brand_handle": gettext_lazy("brand"),
    "cap": gettext_lazy("cap"),
    "created": gettext_lazy("created"),
    "credit_code": gettext_lazy("credit code"),
    "customer": gettext_lazy("customer"),
    "deleted": gettext_lazy("deleted"),
    "email": gettext_lazy("e-mail"),
    "employee_id": gettext_lazy("employee id"),
    "error": gettext_lazy("error"),
    "failing_since": gettext_lazy("failing since"),
    "handle": gettext_lazy("handle"),
    "held": gettext_lazy("held"),
    "held_by": gettext_lazy("held by"),
    "held_by_name": gettext_lazy("held by"),
    "key": gettext_lazy("key"),
    "key_name": gettext_lazy("key name"),
    "kind": gettext_lazy("kind"),
    "languages": gettext_lazy("languages"),
    "messages": gettext_lazy("messages"),
    "moved": gettext_lazy("moved"),
    "moved_from": gettext_lazy("moved from"),
    "name": gettext_lazy("name"),
    "practice_replies": gettext_lazy("practice replies"),
    "quarantined": gettext_lazy("quarantined"),
    "raw_payloads": gettext_lazy("raw payloads"),
    "relayed": gettext_lazy("relayed"),
    "released": gettext_lazy("released"),
    "revoked_at_x": gettext_lazy("revoked on X"),
    "role": gettext_lazy("role"),
    "rule": gettext_lazy("rule"),
    "score": gettext_lazy("score"),
    "source": gettext_lazy("source"),
    "sub": gettext_lazy("subject"),
    "survey": gettext_lazy("survey"),
    "team": gettext_lazy("team"),
    "threads": gettext_lazy("threads"),
    "tweet": gettext_lazy("tweet"),
    "via": gettext_lazy("via"),
    "matched": gettext_lazy("matched"),
    "vouched_by": gettext_lazy("vouched by"),
    "x_handle": gettext_lazy("X handle"),
    "x_user_id": gettext_lazy("X user id"),
}


@register.filter
def other_details(event: Event, teams: dict[int, str] | None = None) -> str:
    """What event_words does not already say, as "key: value", the key in words; a team
    by its name (`teams`, as for event_words)."""
    said = {"mentions", "next", "tag", "x_id", "reason", "why", *AGENT_KEYS, *QUIET_KEYS}
    if event.verb == "routed":
        said |= ROUTED_KEYS
    detail = event.detail or {}
    rest = [(k, v) for k, v in detail.items() if k not in said and v not in (None, "")]
    return "; ".join(
        f"{DETAIL_LABELS.get(k, k.replace('_', ' '))}: "
        f"{team_name(v, teams) if k == 'team' else _value(k, v)}"
        for k, v in rest
    )


_DELETED_TEAM = re.compile(r"team “(?P<name>.*)” deleted\Z")


def _value(key: str, value: object) -> object:
    """A recorded value in words where it is one of ours (routing's `matched`)."""
    if key != "matched" or not isinstance(value, str):
        return value
    if value == "default team":
        return _("default team")
    if found := _DELETED_TEAM.match(value):
        return _("team “%(name)s” deleted") % {"name": found["name"]}
    kind, _sep, rest = value.partition(": ")
    if kind in RoutingRule.Kind.values:
        return f"{RoutingRule.Kind(kind).label}: {rest}"
    return value


def _strong(name: str) -> SafeString:
    return format_html("<strong>{}</strong>", name)
