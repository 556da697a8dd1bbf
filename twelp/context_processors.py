"""Values every template may read."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def push(request: HttpRequest) -> dict[str, str]:
    """Where pages open their event stream (inbox.views.push; static/js/twelp.js)."""
    return {"PUSH_URL": settings.PUSH_URL}
