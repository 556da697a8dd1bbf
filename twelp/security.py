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
4. `CSPMiddleware` is django-csp's, with the headers of a response nobody changed built
   once per process (issue 14): django-csp builds both (the policy and the report-only
   one, each through dataclasses.asdict) for every response, ~0.5 ms, though only the
   settings decide them unless a view set its own (`_csp_config`, `_csp_update`,
   `_csp_replace`, the exemptions) or a template read the nonce. Those responses (and a
   404 or 500 under DEBUG, which django-csp leaves without) go through django-csp.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from csp import middleware as csp_middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
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


# What a view may set on its response to change or skip the policy (django-csp's decorators).
_PER_RESPONSE = (
    *("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt"),
    *("_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro"),
)
_built: dict[str, str] = {}  # header -> its value from the settings alone (docstring, 4)


@receiver(setting_changed)
def _settings_changed(setting: str, **kwargs: object) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built.clear()


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's middleware, the settings' headers built once (docstring, 4)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            (settings.DEBUG and response.status_code in (404, 500))  # django-csp skips these
            or getattr(request, "_csp_nonce", None) is not None
            or any(getattr(response, name, None) is not None for name in _PER_RESPONSE)
        ):
            return super().process_response(request, response)
        if not _built:
            _built[HEADER] = csp_middleware.build_policy()
            _built[HEADER_REPORT_ONLY] = csp_middleware.build_policy(report_only=True)
        for header, setting in (
            (HEADER, "CONTENT_SECURITY_POLICY"),
            (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            value = _built[header]
            if (
                value
                and header not in response
                and not request.path_info.startswith(tuple(prefixes))
            ):
                response[header] = value
        # As django-csp does: the nonce can no longer be put into a header once written.
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


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
