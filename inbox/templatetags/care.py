"""Care tools in templates: the sentiment badge."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from inbox.rules import sentiment

register = template.Library()


@register.simple_tag
def mood(value: float | None) -> SafeString | str:
    """A badge for a frustrated, negative or positive score; nothing for neutral or none."""
    band = sentiment.band(value)
    if band in ("", "neutral"):
        return ""
    return format_html(
        '<span class="badge mood mood-{}" title="Sentiment {} (VADER)">{}</span>',
        band,
        f"{value:+.2f}",
        band,
    )
