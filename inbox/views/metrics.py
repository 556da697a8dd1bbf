"""/metrics for operators, in Prometheus' text format (prometheus_client).

Keyed like healthchecks' metrics endpoint: off (404) while METRICS_TOKEN is unset; the
token comes as `Authorization: Bearer <token>` and is compared in constant time. Every
figure is read when scraped, from the same bounded reads as the dashboard.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from agents.access import anyone
from agents.models import Agent, AgentState
from inbox import budgets, figures, rollups
from inbox.live import presence
from inbox.models import Brand, Source, ThreadStatus
from twelp import security

FAILED_CAP = 10_000
LIVE = (ThreadStatus.OPEN, ThreadStatus.CLAIMED, ThreadStatus.ANSWERED)


def _authorized(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@require_safe
@anyone  # with the operators' token, not a login
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404(_("Metrics are off (METRICS_TOKEN is unset)."))
    if not _authorized(request, token):
        response = HttpResponse("A bearer token is required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TwelpCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def outbox_counts(brand: Brand) -> dict[str, int]:
    """Replies queued, sending and failed (failed capped at FAILED_CAP: it is a backlog to
    clear, and a count must stay cheap)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT r.status, count(*) FROM inbox_reply r JOIN inbox_thread t ON t.id = r.thread_id
            WHERE t.brand_id = %s AND r.status IN ('queued', 'sending') GROUP BY r.status
            UNION ALL
            SELECT 'failed', count(*) FROM (
                SELECT 1 FROM inbox_reply r JOIN inbox_thread t ON t.id = r.thread_id
                WHERE t.brand_id = %s AND r.status = 'failed' LIMIT %s
            ) AS f
            """,
            [brand.id, brand.id, FAILED_CAP],
        )
        counts = dict(cursor.fetchall())
    return {status: counts.get(status, 0) for status in ("queued", "sending", "failed")}


class TwelpCollector:
    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        brands = list(Brand.objects.order_by("id"))
        sources = list(Source.objects.order_by("id"))
        g = {
            "threads": GaugeMetricFamily(
                "twelp_queue_threads",
                "Live threads by status and source (queue depth).",
                labels=["brand", "source", "status"],
            ),
            "oldest": GaugeMetricFamily(
                "twelp_queue_oldest_waiting_seconds",
                "How long the customer waiting longest (open or claimed) has waited.",
                labels=["brand"],
            ),
            "breached": GaugeMetricFamily(
                "twelp_sla_response_breached_threads",
                "Threads past the first-response target now (business hours).",
                labels=["brand"],
            ),
            "near": GaugeMetricFamily(
                "twelp_sla_response_nearing_threads",
                "Threads nearing the first-response target, not yet past it.",
                labels=["brand"],
            ),
            "outbox": GaugeMetricFamily(
                "twelp_outbox_replies",
                "Replies in the outbox by status (failed capped at 10000).",
                labels=["brand", "status"],
            ),
            "paused": GaugeMetricFamily(
                "twelp_outbox_paused_until_timestamp_seconds",
                "Until when the account's budget of this kind is spent (0: not spent).",
                labels=["brand", "kind"],
            ),
            "budget": GaugeMetricFamily(
                "twelp_outbox_budget_remaining",
                "Calls of this kind X leaves the account in its 15-minute window.",
                labels=["brand", "kind"],
            ),
            "online": GaugeMetricFamily(
                "twelp_agents_online", "Employees seen in the last minutes.", labels=["brand"]
            ),
            "polled": GaugeMetricFamily(
                "twelp_source_last_poll_timestamp_seconds",
                "When the source was last polled (0: never).",
                labels=["brand", "source", "kind"],
            ),
            "lag": GaugeMetricFamily(
                "twelp_source_poll_lag_seconds",
                "Seconds since the source was last polled.",
                labels=["brand", "source", "kind"],
            ),
            "limited": GaugeMetricFamily(
                "twelp_source_rate_limited",
                "1 while X rate-limits the source's polls.",
                labels=["brand", "source", "kind"],
            ),
            "limited_until": GaugeMetricFamily(
                "twelp_source_rate_limited_until_timestamp_seconds",
                "Until when X rate-limits the source (0: not limited).",
                labels=["brand", "source", "kind"],
            ),
            "error": GaugeMetricFamily(
                "twelp_source_error",
                "1 when the source's last poll ended in an error.",
                labels=["brand", "source", "kind"],
            ),
        }
        names = {brand.id: brand.handle for brand in brands}
        for brand in brands:
            name = brand.handle
            for (source_id, status), n in rollups.queue_counts(brand).items():
                if status in LIVE:
                    g["threads"].add_metric([name, str(source_id or ""), status], n)
            oldest = figures.longest_waiting(brand, limit=1)
            age = (now - oldest[0].waiting_since).total_seconds() if oldest else 0.0
            g["oldest"].add_metric([name], max(age, 0.0))
            sla_now = figures.sla_now(brand, now)
            g["breached"].add_metric([name], sla_now.breached)
            g["near"].add_metric([name], sla_now.near)
            for status, n in outbox_counts(brand).items():
                g["outbox"].add_metric([name, status], n)
            for budget in budgets.budgets(brand, now):
                paused = budget.paused_until
                g["paused"].add_metric([name, budget.kind], paused.timestamp() if paused else 0)
                g["budget"].add_metric([name, budget.kind], budget.left)
            agent_ids = Agent.objects.filter(brand=brand, state=AgentState.ACTIVE).values_list(
                "id", flat=True
            )
            g["online"].add_metric([name], len(presence.last_seen(brand.id, agent_ids)))
        for source in sources:
            labels = [names.get(source.brand_id, ""), str(source.id), source.kind]
            polled = source.last_polled_at
            g["polled"].add_metric(labels, polled.timestamp() if polled else 0)
            g["lag"].add_metric(labels, (now - polled).total_seconds() if polled else float("inf"))
            limited = source.rate_limited_until
            is_limited = bool(limited and limited > now)
            g["limited"].add_metric(labels, int(is_limited))
            g["limited_until"].add_metric(labels, limited.timestamp() if is_limited else 0)
            g["error"].add_metric(labels, int(bool(source.last_error)))
        yield from g.values()
        csp = CounterMetricFamily(
            "twelp_csp_violations",
            "Content-Security-Policy violations browsers reported, by directive.",
            labels=["directive"],
        )
        for directive, n in security.violation_counts().items():
            csp.add_metric([directive], n)
        yield csp
