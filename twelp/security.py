"""The browser's side of defence in depth: policies on every response, and the violation
reports the Content-Security-Policy sends back (settings.CONTENT_SECURITY_POLICY).

1. `browser_policies` adds Permissions-Policy and Cross-Origin-Resource-Policy to every
   response (django-csp sends the CSP, Django's SecurityMiddleware the opener policy).
   CORP same-origin applies to no-cors loads only (an <img>, a <script> of another
   site); the push stream that pages open at another port is a CORS request
   (EventSource with credentials), which CORP does not govern.
2. A violation report is logged with what was blocked and where, truncated, and never
   the sample of the blocked code (it may quote a customer's tweet), and counted per
   directive in Redis, so /metrics shows the sum over every web process.
3. Anyone can post a report (the login page has a policy too): the directive label is
   one of a fixed list, so a forged report can add to a count, never add a series.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)

# The directives a violation can be counted under; anything else counts as "other".
DIRECTIVES = (
    "script-src-elem",
    "script-src-attr",
    "script-src",
    "style-src-elem",
    "style-src-attr",
    "style-src",
    "img-src",
    "connect-src",
    "font-src",
    "frame-src",
    "frame-ancestors",
    "form-action",
    "base-uri",
    "object-src",
    "default-src",
    "other",
)
MAX_REPORT_BYTES = 16 * 1024
MAX_LOGGED = 200  # characters of each logged field


def browser_policies(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response

    return middleware


def parse_report(body: bytes) -> dict[str, str] | None:
    """The fields of a report-uri body ({"csp-report": {...}}), or None if it is not one."""
    if len(body) > MAX_REPORT_BYTES:
        return None
    try:
        report = json.loads(body).get("csp-report")
    except (ValueError, AttributeError):
        return None
    if not isinstance(report, dict):
        return None
    return {key: str(value) for key, value in report.items() if isinstance(value, str | int)}


def record_violation(report: dict[str, str]) -> str:
    """Log and count one violation (docstring, 2); returns the directive it counted."""
    directive = report.get("effective-directive") or report.get("violated-directive", "")
    directive = directive.split(" ")[0]
    if directive not in DIRECTIVES:
        directive = "other"
    page = urlsplit(report.get("document-uri", "")).path  # our page, without its query
    log.warning(
        "CSP violation: %s blocked %r on %s (%s:%s)",
        directive,
        report.get("blocked-uri", "")[:MAX_LOGGED],
        page[:MAX_LOGGED],
        urlsplit(report.get("source-file", "")).path[:MAX_LOGGED],
        report.get("line-number", "")[:10],
    )
    key = _key(directive)
    cache.add(key, 0, timeout=None)
    cache.incr(key)
    return directive


def violation_counts() -> dict[str, int]:
    """Violations reported so far, per directive (every directive, 0 when none)."""
    counts = cache.get_many([_key(directive) for directive in DIRECTIVES])
    return {directive: int(counts.get(_key(directive), 0)) for directive in DIRECTIVES}


def _key(directive: str) -> str:
    return f"csp-violations:{directive}"
