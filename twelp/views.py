from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)


@require_GET
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
