"""The audit's hash chain, as pure functions: inbox.events seals with them, the
`verify_audit` command checks with them.

1. A row's link is sha256 over the previous link and the row's fields in a fixed,
   canonical text (ids, verb, time in UTC microseconds, and the digest of its detail).
2. The detail enters only by its digest, stored beside it when sealed: an erasure may
   replace personal fields of `detail` (the row then carries ERASED_MARK) and the chain
   still verifies, while any other change of `detail` shows as a mismatch.
3. Each brand's chain starts from GENESIS.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

GENESIS = "0" * 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The key an erasure writes into an Event's detail (inbox.events.erase_details).
ERASED_MARK = "erased"
ERASED_VALUE = "customer"


def digest(detail: object) -> str:
    """sha256 of `detail` as canonical JSON (sorted keys, no spaces); `detail` decoded,
    or as the database's text (a raw cursor's jsonb)."""
    if isinstance(detail, str):
        detail = json.loads(detail)
    text = json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def link(
    previous: str,
    *,
    seq: int,
    event_id: int,
    brand_id: int,
    thread_id: int | None,
    actor_id: int | None,
    verb: str,
    at: datetime,
    detail_digest: str,
) -> str:
    micros = (at - _EPOCH) // timedelta(microseconds=1)  # exact, unlike a float
    fields = [seq, event_id, brand_id, thread_id, actor_id, verb, micros, detail_digest]
    text = previous + json.dumps(fields, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def erased(detail: object) -> bool:
    if isinstance(detail, str):
        detail = json.loads(detail)
    return isinstance(detail, dict) and detail.get(ERASED_MARK) == ERASED_VALUE
