"""`{{ event|sso_refusal }}` and `{{ event|sso_detail }}`: a refused company sign-in in
the reader's language (the Event keeps the REFUSALS key and the English sentence)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext

from agents.sso import REFUSALS

register = template.Library()


@register.filter
def sso_refusal(detail: dict) -> str:
    """What was refused, in words: the REFUSALS sentence of the Event's `reason` key."""
    key = (detail or {}).get("reason", "")
    return gettext(REFUSALS[key]) if key in REFUSALS else key


@register.filter
def sso_detail(detail: dict) -> str:
    """The detail beyond the sentence (the provider's own words), if there is any."""
    detail = detail or {}
    why = detail.get("why", "")
    return "" if why == REFUSALS.get(detail.get("reason", "")) else why
