"""Twelp's pages, one module per page family; each view says who may use it
(agents.access.role_required), and tests/test_access_matrix.py checks every URL."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect

from inbox.errors import ActionError


def go(request: HttpRequest, url: str) -> HttpResponse:
    """After a form: htmx follows a client redirect, a plain form a 302."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def acted(
    request: HttpRequest,
    action: Callable[[], object],
    done: str = "",
    *,
    level: Callable[[HttpRequest, str], None] = messages.success,
) -> bool:
    """Run one action for a form: its refusal (ActionError: a lost race, a cap, a stale
    claim) is flashed as an error, else `done` at `level`. True when it went through."""
    try:
        action()
    except ActionError as error:
        messages.error(request, str(error))
        return False
    if done:
        level(request, done)
    return True
