"""Requests the test's live server is still serving (a test-only middleware, first in
tests/settings.py). A browser test closes its page, but a request the page had sent (a
badge poll, a stream's fallback) may still run in a live server thread; the database's
flush after the test then waits for its locks while it waits for the flush's: PostgreSQL
ends one of them as a deadlock. tests/conftest.py waits for none to be left first."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

_idle = threading.Condition()
_serving = 0


def count(get_response: Callable[[HttpRequest], HttpResponse]):
    def middleware(request: HttpRequest) -> HttpResponse:
        global _serving
        with _idle:
            _serving += 1
        try:
            return get_response(request)
        finally:
            with _idle:
                _serving -= 1
                _idle.notify_all()

    return middleware


def wait_until_idle(timeout: float = 10.0) -> bool:
    """True once no request is being served (False if one still is after `timeout`)."""
    with _idle:
        return _idle.wait_for(lambda: _serving == 0, timeout=timeout)
