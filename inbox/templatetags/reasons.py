"""`{{ row|why }}`: why an outbox row did not go, or a source is parked, in the reader's
language (inbox.rules.reasons)."""

from __future__ import annotations

from django import template

from inbox.rules import reasons

register = template.Library()


@register.filter
def why(value: object) -> str:
    """A Reply or BrandTweet (its last_reason, else its English last_error), a reason dict,
    or a stored sentence."""
    if hasattr(value, "last_error"):  # a Reply, BrandTweet or Source; cleared: no reason
        if not value.last_error:
            return ""
        return reasons.words(getattr(value, "last_reason", None) or value.last_error)
    if isinstance(value, dict | str):
        return reasons.words(value)
    return ""


@register.filter
def notice_words(notification: object) -> str:
    """A Notification in the reader's language (its params); one written before, as written."""
    params = getattr(notification, "params", None)
    if params:
        return reasons.notice(notification.kind, params) or notification.text  # type: ignore[attr-defined]
    return getattr(notification, "text", "")
