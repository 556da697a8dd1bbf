"""Care tools in templates: the triage badges (mood and intent, inbox.rules.triage)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inbox.rules import sentiment, triage

register = template.Library()

# The mood bands' words (inbox.rules.sentiment.band), as the badge shows them.
BANDS = {
    "frustrated": gettext_lazy("frustrated"),
    "negative": gettext_lazy("negative"),
    "positive": gettext_lazy("positive"),
}


@register.simple_tag
def mood(value: float | None) -> SafeString | str:
    """A badge for a frustrated, negative or positive score; nothing for neutral or none."""
    band = sentiment.band(value)
    if band in ("", "neutral"):
        return ""
    return format_html(
        '<span class="badge mood mood-{}" title="{}">{}</span>',
        band,
        _("Mood %(score)s (care rules and VADER)") % {"score": f"{value:+.2f}"},
        BANDS.get(band, band),
    )


@register.simple_tag
def intent(value: str) -> SafeString | str:
    """A badge for a complaint, a question or praise; nothing for other or none."""
    if value not in (triage.COMPLAINT, triage.QUESTION, triage.PRAISE):
        return ""
    return format_html(
        '<span class="badge intent intent-{}" title="{}">{}</span>',
        value,
        _("What the customer wants"),
        triage.LABELS[value],
    )
