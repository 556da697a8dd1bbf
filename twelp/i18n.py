"""The UI's language (issue 21): English or Spanish (settings.LANGUAGES).

1. LocaleMiddleware picks the browser's language (Accept-Language) for every request;
   an employee's own pick (Agent.language) replaces it once role_required has loaded the
   employee (`activate_for`), so the rest of the request, error pages included, speaks it.
2. `language_scope` (a middleware, outside LocaleMiddleware) puts back the language that
   was active before the request when it is answered: nothing of one request's language
   is left to code that runs after it in the same thread (a test, a task).
3. Outside a request (the push process's renders, notifications written for a colleague)
   `override(code)` renders in an employee's language; `language_of(agent)` is their pick,
   else the site's default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

CODES = frozenset(code for code, _ in settings.LANGUAGES)


def language_scope(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    def middleware(request: HttpRequest) -> HttpResponse:
        before = translation.get_language()
        try:
            return get_response(request)
        finally:
            translation.activate(before) if before else translation.deactivate()

    return middleware


def activate_for(request: HttpRequest, agent: Any) -> None:
    """The employee's own language for the rest of this request (docstring, 1)."""
    code = getattr(agent, "language", "")
    if code in CODES:
        translation.activate(code)
        request.LANGUAGE_CODE = code  # type: ignore[attr-defined]


def language_of(agent: Any) -> str:
    """The employee's pick, else the site's default language (docstring, 3)."""
    code = getattr(agent, "language", "")
    return code if code in CODES else settings.LANGUAGE_CODE


def override(code: str) -> translation.override:
    return translation.override(code)
