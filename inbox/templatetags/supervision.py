"""Filters for the supervisors' pages and the queue's SLA marks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import template
from django.utils.html import urlize
from django.utils.safestring import mark_safe

from inbox.rules import sla

if TYPE_CHECKING:
    from inbox.models import Brand, Thread

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
    """Seconds from `moment` to `now` (for `duration`)."""
    if moment is None or now is None:
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


@register.filter(needs_autoescape=True)
def tweet_links(text: str, autoescape: bool = True) -> str:
    """Tweet text, escaped, with its links clickable but not endorsed (user content)."""
    html = urlize(text, nofollow=True, autoescape=autoescape)
    # The text itself is escaped, so only urlize's own attribute can match here.
    return mark_safe(html.replace(' rel="nofollow"', ' rel="noopener nofollow ugc"'))  # noqa: S308
