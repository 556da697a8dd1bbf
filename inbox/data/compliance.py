"""X's batch compliance: what X says is deleted, protected, suspended or withheld is
removed or hidden here (X's developer policy: within 24 hours).

1. `start(kind)` (daily, per kind: tweets, users) creates a job through the gateway
   (tweepy), uploads every stored id to its upload URL (plain HTTP), and keeps a
   ComplianceJob row "uploaded". A failure of either marks the row failed.
2. `poll()` (every few minutes) asks X about each uploaded job: complete -> the result
   file is read line by line and applied; failed or expired -> the row is failed; a
   failed job is started again (X_COMPLIANCE_MAX_ATTEMPTS) without waiting for the next
   day. A transient error (X down, the download broken off) leaves the row as it was, so
   the next poll tries again: applying is idempotent. So is a crash: the apply's batches
   commit without waiting for their WAL flush (retention.duty_transaction), and the row
   is marked applied by an ordinary commit, which flushes them all first; a crash before
   it leaves the row "uploaded", and the next poll applies the file again.
3. A line that is not a result (bad JSON, no numeric id) is counted and skipped; an id
   Twelp does not hold is counted; neither stops the other lines.
4. Applying: deleted or deactivated -> removed (a tweet's Message via inbox.data.removal;
   a user as an erasure, inbox.data.erasure); protected, suspended, withheld (or a reason
   X adds later) -> hidden: Message / Customer and their Threads get x_hidden, which keeps
   them out of the queue, claim next and the public stream. A user's job also shows again
   the customers it hid before whose ids it no longer reports.
5. Each brand touched gets one Event with the counts (no ids, no text).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inbox import events
from inbox.data import erasure, retention
from inbox.data.removal import remove_messages
from inbox.models import Brand, Channel, ComplianceJob, Customer, Message, Thread, Verb
from twelp import xgateway

KINDS = ("tweets", "users")
REMOVE = frozenset({"deleted", "deactivated"})
BATCH = 50  # ids a transaction: its WAL is what a claim's commit waits behind


def stored_ids(kind: str) -> list[int]:
    if kind == "tweets":
        rows = Message.objects.filter(channel=Channel.TWEET).values_list("x_id", flat=True)
    else:
        rows = Customer.objects.filter(x_user_id__gt=0).values_list("x_user_id", flat=True)
    return sorted(set(rows.iterator(chunk_size=10_000)))


def start(kind: str, *, attempt: int = 1) -> ComplianceJob:
    """Create X's job for `kind` and upload the ids (module docstring, 1)."""
    row = ComplianceJob.objects.create(kind=kind, attempt=attempt)
    ids = stored_ids(kind)[: settings.X_COMPLIANCE_IDS_PER_JOB]
    try:
        job = xgateway.create_compliance_job(kind, name=f"twelp-{kind}-{row.id}")
        row.x_job_id, row.download_url = job.id, job.download_url
        xgateway.upload_compliance_ids(job.upload_url, ids)
    except xgateway.XError as error:
        _finish(row, ComplianceJob.Status.FAILED, error=str(error))
        return row
    row.ids_sent = len(ids)
    row.save(update_fields=["x_job_id", "download_url", "ids_sent"])
    return row


def poll() -> list[ComplianceJob]:
    """Check every uploaded job; apply the complete ones; start failed ones again."""
    rows = list(ComplianceJob.objects.filter(status=ComplianceJob.Status.UPLOADED).order_by("id"))
    for row in rows:
        try:
            job = xgateway.get_compliance_job(row.x_job_id)
            if job.status in ("failed", "expired"):
                _finish(row, ComplianceJob.Status.FAILED, error=f"X says the job {job.status}")
            elif job.status == "complete":
                apply(row, xgateway.compliance_results(job.download_url))
                _finish(row, ComplianceJob.Status.APPLIED)
        except xgateway.XError as error:  # transient or not: this row waits for the next poll
            row.last_error = str(error)[:1000]
            row.save(update_fields=["last_error"])
    for kind in KINDS:
        latest = ComplianceJob.objects.filter(kind=kind).order_by("-id").first()
        retry = latest is not None and latest.status == ComplianceJob.Status.FAILED
        if retry and latest.attempt < settings.X_COMPLIANCE_MAX_ATTEMPTS:
            rows.append(start(kind, attempt=latest.attempt + 1))
    return rows


def _finish(row: ComplianceJob, status: str, *, error: str = "") -> None:
    row.status, row.finished_at = status, timezone.now()
    row.last_error = error[:1000]
    row.save()


def parse(lines: Iterable[str]) -> tuple[dict[str, set[int]], int, int]:
    """{reason: ids}, how many lines, how many malformed (module docstring, 3)."""
    found: dict[str, set[int]] = defaultdict(set)
    total = malformed = 0
    for line in lines:
        total += 1
        try:
            result = json.loads(line)
            x_id = int(result["id"]) if str(result["id"]).isdigit() else None
            reason = str(result.get("reason") or result.get("action") or "")
        except (ValueError, TypeError, KeyError, AttributeError):
            x_id, reason = None, ""
        if x_id is None or not reason or not 0 < x_id < 2**63:
            malformed += 1
            continue
        found[reason.lower()[:16]].add(x_id)
    return found, total, malformed


def apply(row: ComplianceJob, lines: Iterable[str]) -> None:
    found, row.lines, row.malformed = parse(lines)
    row.removed = row.hidden = row.unknown = 0
    per_brand: dict[int, dict[str, int]] = defaultdict(lambda: {"removed": 0, "hidden": 0})
    apply_batch = _apply_tweets if row.kind == "tweets" else _apply_users
    row.batch_ms = []  # type: ignore[attr-defined]  # each batch's transaction (bench reads it)
    for reason, ids in found.items():
        ordered = sorted(ids)
        for start_at in range(0, len(ordered), BATCH):
            began = time.perf_counter()
            with retention.duty_transaction():
                apply_batch(row, reason, ordered[start_at : start_at + BATCH], per_brand)
            row.batch_ms.append((time.perf_counter() - began) * 1000)  # type: ignore[attr-defined]
            retention.rest(row.batch_ms[-1])  # type: ignore[attr-defined]  # the agents' WAL
    if row.kind == "users":
        _show_again(row, set().union(*found.values()) if found else set())
    with transaction.atomic():
        for brand_id, counts in per_brand.items():
            events.record(Verb.X_COMPLIANCE_APPLIED, brand_id=brand_id, kind=row.kind, **counts)


def _brands() -> list[int]:
    """Every brand: X's ids are unique per brand ((brand, x_id) indexes), so naming the
    brands lets a batch use those indexes instead of reading the whole table."""
    return list(Brand.objects.values_list("id", flat=True))


def _apply_tweets(row: ComplianceJob, reason: str, ids: list[int], per_brand: dict) -> None:
    messages = list(
        Message.objects.select_for_update(no_key=True)
        .filter(brand_id__in=_brands(), channel=Channel.TWEET, x_id__in=ids)
        .values_list("id", "x_id", "brand_id", "thread_id")
    )
    row.unknown += len(set(ids) - {x_id for _, x_id, _, _ in messages})
    thread_ids = {thread_id for *_, thread_id in messages}
    for _, _, brand_id, _ in messages:
        per_brand[brand_id]["removed" if reason in REMOVE else "hidden"] += 1
    if reason in REMOVE:
        row.removed += remove_messages(Q(id__in=[m[0] for m in messages]))
        Thread.objects.filter(id__in=thread_ids).update(preview="")
    else:
        row.hidden += Message.objects.filter(id__in=[m[0] for m in messages]).update(
            x_hidden=reason
        )
        Thread.objects.filter(id__in=thread_ids).update(x_hidden=reason, preview="")


def _apply_users(row: ComplianceJob, reason: str, ids: list[int], per_brand: dict) -> None:
    customers = list(
        Customer.objects.select_for_update()
        .filter(brand_id__in=_brands(), x_user_id__in=ids, erased_at__isnull=True)
        .order_by("id")
    )
    row.unknown += len(set(ids) - {c.x_user_id for c in customers})
    for customer in customers:
        per_brand[customer.brand_id]["removed" if reason in REMOVE else "hidden"] += 1
    if reason in REMOVE:
        for customer in customers:
            erasure.erase_customer(customer)
        row.removed += len(customers)
        return
    chosen = [c.id for c in customers]
    row.hidden += Customer.objects.filter(id__in=chosen).update(x_hidden=reason)
    Thread.objects.filter(customer_id__in=chosen).update(x_hidden=reason)


def _show_again(row: ComplianceJob, reported: set[int]) -> None:
    """Customers hidden before, sent in this job, and no longer reported: public again."""
    hidden = Customer.objects.exclude(x_hidden="").filter(
        x_user_id__gt=0, created_at__lt=row.created_at
    )
    back = [c.id for c in hidden.only("id", "x_user_id") if c.x_user_id not in reported]
    with transaction.atomic():
        Customer.objects.filter(id__in=back).update(x_hidden="")
        Thread.objects.filter(customer_id__in=back).update(x_hidden="")
