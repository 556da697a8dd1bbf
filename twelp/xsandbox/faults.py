"""Faults to test against: 429 with a reset time, 503, slow answers, broken JSON, broken tweets.

Two sources, one shape (FaultSpec):
- per process: settings.XSANDBOX_FAULTS (env XSANDBOX_FAULTS, a JSON list), e.g.
  [{"kind": "unavailable", "endpoint": "mentions", "probability": 0.05}];
- at run time: rows of xsandbox_fault, added through POST /_sandbox/faults, e.g.
  {"kind": "rate_limit", "endpoint": "mentions", "count": 2, "reset_after": 30}
  makes the next two calls to the mentions timeline answer 429.
Run-time faults are checked first, oldest first; at most one fault applies to a call.
"""

from __future__ import annotations

import functools
import json
import random
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, Q

from twelp.xsandbox.models import Fault

ENDPOINTS = frozenset(
    {
        "mentions",
        "search",
        "user_tweets",
        "create_tweet",
        "tweet_lookup",
        "users_me",
        "user_lookup",
        "dm_events",
        "dm_send",
        "oauth2_revoke",  # POST /2/oauth2/revoke (issue 16: a brand account disconnected)
        "compliance_jobs",
        # Not an API call: the processing of an uploaded job (unavailable: the job fails)
        # and its result file (malformed_json: a line of it is cut short).
        "compliance_processing",
        "compliance_download",
    }
)
DEFAULT_DROP_FIELDS = ("text", "author_id")


@dataclass(frozen=True)
class FaultSpec:
    kind: str
    endpoint: str = "*"
    probability: float = 1.0
    count: int | None = None  # None: every matching call, until the fault is removed
    reset_after: int = 60  # rate_limit: x-rate-limit-reset is now + this many seconds
    delay: float = 15.0  # slow: seconds to wait before answering
    drop_fields: tuple[str, ...] = field(default=DEFAULT_DROP_FIELDS)
    id: int | None = None  # the row's id for run-time faults

    @classmethod
    def parse(cls, data: Mapping[str, object]) -> FaultSpec:
        """Validate a client's JSON; ValueError says what is wrong."""
        unknown = set(data) - {
            "kind",
            "endpoint",
            "probability",
            "count",
            "reset_after",
            "delay",
            "drop_fields",
        }
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        spec = cls(
            kind=str(data.get("kind", "")),
            endpoint=str(data.get("endpoint", "*")),
            probability=float(data.get("probability", 1.0)),  # type: ignore[arg-type]
            count=None if data.get("count") is None else int(data["count"]),  # type: ignore[call-overload]
            reset_after=int(data.get("reset_after", 60)),  # type: ignore[call-overload]
            delay=float(data.get("delay", 15.0)),  # type: ignore[arg-type]
            drop_fields=tuple(data.get("drop_fields", DEFAULT_DROP_FIELDS)),  # type: ignore[arg-type]
        )
        spec._check()
        return spec

    def _check(self) -> None:
        if self.kind not in Fault.Kind.values:
            raise ValueError(f"kind must be one of {', '.join(Fault.Kind.values)}")
        if self.endpoint != "*" and self.endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be * or one of {', '.join(sorted(ENDPOINTS))}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if (self.count is not None and self.count < 1) or self.reset_after < 0 or self.delay < 0:
            raise ValueError("count must be at least 1; reset_after and delay not negative")

    def save(self) -> FaultSpec:
        row = Fault.objects.create(
            kind=self.kind,
            endpoint=self.endpoint,
            probability=self.probability,
            remaining=self.count,
            reset_after=self.reset_after,
            delay=self.delay,
            drop_fields=list(self.drop_fields),
        )
        return _from_row(row)

    def as_json(self) -> dict[str, object]:
        return asdict(self) | {"drop_fields": list(self.drop_fields)}


def pick(endpoint: str) -> FaultSpec | None:
    """The fault this call suffers, if any; a counted fault is used up atomically."""
    rows = Fault.objects.filter(Q(endpoint=endpoint) | Q(endpoint="*")).filter(
        Q(remaining__isnull=True) | Q(remaining__gt=0)
    )
    for row in rows.order_by("id"):
        if _rolls(row.probability) and _consume(row):
            return _from_row(row)
    for spec in process_faults():
        if spec.endpoint in (endpoint, "*") and _rolls(spec.probability) and _consume_local(spec):
            return spec
    return None


def listing() -> list[FaultSpec]:
    return [_from_row(row) for row in Fault.objects.order_by("id")]


def process_faults() -> tuple[FaultSpec, ...]:
    return _parse_process_faults(settings.XSANDBOX_FAULTS)


@functools.cache
def _parse_process_faults(raw: str) -> tuple[FaultSpec, ...]:
    try:
        items = json.loads(raw) if raw.strip() else []
        if not isinstance(items, list):
            raise ValueError("a JSON list is expected")
        return tuple(FaultSpec.parse(item) for item in items)
    except (ValueError, TypeError, AttributeError) as error:
        raise ImproperlyConfigured(f"XSANDBOX_FAULTS is not valid: {error}") from None


def _rolls(probability: float) -> bool:
    return probability >= 1.0 or random.random() < probability  # noqa: S311 (not security)


def _consume(row: Fault) -> bool:
    if row.remaining is None:
        return True
    # Two sandbox workers racing for the last use: exactly one UPDATE matches.
    return bool(
        Fault.objects.filter(pk=row.pk, remaining__gt=0).update(remaining=F("remaining") - 1)
    )


_local_uses: dict[FaultSpec, int] = {}
_local_lock = threading.Lock()


def _consume_local(spec: FaultSpec) -> bool:
    """Per-process counts: each sandbox worker process counts its own uses."""
    if spec.count is None:
        return True
    with _local_lock:
        used = _local_uses.get(spec, 0)
        if used >= spec.count:
            return False
        _local_uses[spec] = used + 1
        return True


def _from_row(row: Fault) -> FaultSpec:
    return FaultSpec(
        kind=row.kind,
        endpoint=row.endpoint,
        probability=row.probability,
        count=row.remaining,
        reset_after=row.reset_after,
        delay=row.delay,
        drop_fields=tuple(row.drop_fields),
        id=row.pk,
    )
