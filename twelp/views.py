from __future__ import annotations

import logging
import sys

from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from django.views.i18n import JavaScriptCatalog

from agents.access import anyone
from twelp import i18n, security

log = logging.getLogger(__name__)


@require_safe
@cache_control(public=True, max_age=86400)
def javascript_catalog(request: HttpRequest, language: str) -> HttpResponse:
    """The scripts' words in `language` (issue 21): Django's JavaScriptCatalog of the
    djangojs domain, a static script (no eval, so the Content-Security-Policy allows it),
    one URL per language, so browsers and proxies may keep it a day. Anyone: the login
    page's scripts need it too, and it holds only the UI's words."""
    if language not in i18n.CODES:
        raise Http404(_("No such language."))
    with translation.override(language):
        return JavaScriptCatalog.as_view(domain="djangojs")(request)


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Anyone may ask (load balancers, compose healthchecks); it reveals only up/down."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["postgres"] = "ok"
    except Exception:  # any failure is "down"; the details go to the log, not the public
        log.exception("healthz: PostgreSQL check failed")
        checks["postgres"] = "down"
    try:
        cache.set("healthz", "1", 5)
        checks["redis"] = "ok"
    except Exception:
        log.exception("healthz: Redis check failed")
        checks["redis"] = "down"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)


# While PostgreSQL is down (restarting, failing over) every page fails the same way; the
# people on the floor need to know it is the service, not them, and that it comes back by
# itself. So a database error answers 503 with a retry hint, any other error a plain 500.
# Neither page renders with the request (no user, no context processors): nothing on them
# may need the database, or Redis, that just failed.
DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 10


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: Django calls it while handling the exception, so exc_info() is it."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_DOWN):
        page = loader.get_template("503.html").render({"retry": RETRY_AFTER_SECONDS})
        response = HttpResponse(page, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(loader.get_template("500.html").render(), status=500)


@csrf_exempt  # browsers post reports with no token; it only logs and counts
@require_POST
@anyone  # the login page has a policy too
def csp_report(request: HttpRequest) -> HttpResponse:
    """Where browsers report what the Content-Security-Policy blocked (twelp.security)."""
    report = security.parse_report(request.body)
    if report is None:
        return HttpResponse("Not a CSP report.", status=400, content_type="text/plain")
    security.record_violation(report)
    return HttpResponse(status=204)
