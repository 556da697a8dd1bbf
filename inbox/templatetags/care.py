"""Care tools in templates: the triage badges (mood and intent, inbox.rules.triage)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from inbox.rules import sentiment, triage

register = template.Library()


@register.simple_tag
def mood(value: float | None) -> SafeString | str:
    """A badge for a frustrated, negative or positive score; nothing for neutral or none."""
    band = sentiment.band(value)
    if band in ("", "neutral"):
        return ""
    return format_html(
        '<span class="badge mood mood-{}" title="Mood {} (care rules and VADER)">{}</span>',
        band,
        f"{value:+.2f}",
        band,
    )


@register.simple_tag
def intent(value: str) -> SafeString | str:
    """A badge for a complaint, a question or praise; nothing for other or none."""
    if value not in (triage.COMPLAINT, triage.QUESTION, triage.PRAISE):
        return ""
    return format_html(
        '<span class="badge intent intent-{}" title="What the customer wants">{}</span>',
        value,
        triage.LABELS[value],
    )
