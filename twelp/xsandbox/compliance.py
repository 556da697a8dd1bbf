"""X's batch compliance, as X publishes it (docs.x.com, "Batch compliance"):

1. `POST /2/compliance/jobs` {"type": "tweets"|"users", "name"?, "resumable"?} creates a
   job (App-only Bearer on X; any of the app's credentials here) and answers its id,
   upload_url, download_url, their expiry times and status "created".
2. The client PUTs a text/plain file of ids, one a line, to upload_url; the job is then
   "in_progress", and "complete" from the second status check on (or "failed", when the
   `compliance_processing` fault is on). `GET /2/compliance/jobs/:id` answers the job;
   `GET /2/compliance/jobs?type=` lists the app's.
3. download_url serves newline-delimited JSON, one line per id that needs action:
   {"id", "action": "delete", "created_at", "redacted_at", "reason"}; reason is deleted
   (the tweet), or protected, suspended, withheld, deactivated (its author, or the
   user). An id that needs nothing, or is unknown, is not in the file, as on X.
The upload and download URLs are the sandbox's own, signed by a random token per job.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from twelp.xsandbox import faults, snowflake, wire
from twelp.xsandbox.models import Account, ComplianceJob, Fault, Redaction, Tweet

TYPES = ("tweets", "users")
MAX_IDS = 5_000_000  # X's limit per file
UPLOAD_FOR = timedelta(minutes=15)
DOWNLOAD_FOR = timedelta(days=7)
Result = tuple[int, dict[str, object]]


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def job_body(request: HttpRequest, job: ComplianceJob) -> dict[str, object]:
    query = f"?token={job.token}"
    return {
        "id": str(job.id),
        "type": job.type,
        "name": job.name,
        "resumable": job.resumable,
        "status": job.status,
        "created_at": _time(job.created_at),
        "upload_url": request.build_absolute_uri(
            reverse("xsandbox_compliance_upload", args=[job.id]) + query
        ),
        "upload_expires_at": _time(job.created_at + UPLOAD_FOR),
        "download_url": request.build_absolute_uri(
            reverse("xsandbox_compliance_download", args=[job.id]) + query
        ),
        "download_expires_at": _time(job.created_at + DOWNLOAD_FOR),
    }


def create_job(request: HttpRequest, app_id: int, body: dict[str, object]) -> Result:
    kind = body.get("type")
    if kind not in TYPES:
        raise wire.InvalidRequest("type must be one of [tweets, users]", "type")
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > 64:
        raise wire.InvalidRequest("name must be a string of at most 64 characters", "name")
    job = ComplianceJob.objects.create(
        id=snowflake.next_id(),
        app_id=app_id,
        type=kind,
        name=name,
        resumable=bool(body.get("resumable", False)),
        token=secrets.token_urlsafe(24),
    )
    return 200, {"data": job_body(request, job)}


def get_job(request: HttpRequest, app_id: int, job_id: str) -> Result:
    job = ComplianceJob.objects.filter(app_id=app_id, id=_int(job_id)).first()
    if job is None:
        return 200, {"errors": [wire.not_found("compliance_job", "id", job_id)]}
    if job.status == ComplianceJob.Status.IN_PROGRESS:
        _advance(job)
    return 200, {"data": job_body(request, job)}


def list_jobs(request: HttpRequest, app_id: int, kind: str | None, status: str | None) -> Result:
    if kind not in TYPES:
        raise wire.InvalidRequest("type must be one of [tweets, users]", "type")
    jobs = ComplianceJob.objects.filter(app_id=app_id, type=kind).order_by("-id")
    if status:
        jobs = jobs.filter(status=status)
    return 200, {"data": [job_body(request, job) for job in jobs[:50]]}


def _advance(job: ComplianceJob) -> None:
    """The second status check after the upload finds the job done (or failed)."""
    job.status_checks += 1
    if job.status_checks >= 2:
        fault = faults.pick("compliance_processing")
        failed = fault is not None and fault.kind == Fault.Kind.UNAVAILABLE
        job.status = ComplianceJob.Status.FAILED if failed else ComplianceJob.Status.COMPLETE
    job.save(update_fields=["status", "status_checks"])


def _int(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 20 else -1


@csrf_exempt  # a pre-signed URL, as X's storage URLs are: the token is the credential
def upload(request: HttpRequest, job_id: int) -> HttpResponse:
    if request.method != "PUT":
        return HttpResponse(status=405, headers={"Allow": "PUT"})
    with transaction.atomic():
        job = _signed(request, job_id, lock=True)
        if job is None:
            return HttpResponse("Signature does not match.", status=403)
        if job.status != ComplianceJob.Status.CREATED:
            return HttpResponse("This job's file was uploaded already.", status=409)
        # Read line by line from the stream: a file of millions of ids is far past
        # DATA_UPLOAD_MAX_MEMORY_SIZE, which request.body enforces (X's bucket takes it).
        ids = _ids(line.decode("utf-8", "replace") for line in request)
        if len(ids) > MAX_IDS:
            return HttpResponse(f"At most {MAX_IDS} ids per job.", status=400)
        job.result = results(job.type, ids)
        job.status = ComplianceJob.Status.IN_PROGRESS
        job.save(update_fields=["result", "status"])
    return HttpResponse(status=200)


def download(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _signed(request, job_id)
    if job is None:
        return HttpResponse("Signature does not match.", status=403)
    if job.status != ComplianceJob.Status.COMPLETE:
        return HttpResponse("No such object.", status=404)
    fault = faults.pick("compliance_download")
    if fault is not None and fault.kind == Fault.Kind.UNAVAILABLE:
        return HttpResponse("Service Unavailable", status=503)
    body = job.result
    if fault is not None and fault.kind == Fault.Kind.MALFORMED_JSON:
        lines = body.splitlines()
        cut = lines[len(lines) // 2] if lines else ""
        lines.insert(len(lines) // 2, cut[: max(len(cut) // 2, 1)])  # a line cut short
        body = "\n".join(lines) + "\n"
    return HttpResponse(body, content_type="application/json")


def _signed(request: HttpRequest, job_id: int, *, lock: bool = False) -> ComplianceJob | None:
    rows = ComplianceJob.objects.select_for_update() if lock else ComplianceJob.objects
    job = rows.filter(id=job_id).first()
    given = request.GET.get("token", "")
    if job is None or not secrets.compare_digest(given.encode(), job.token.encode()):
        return None
    return job


def _ids(lines: Iterable[str]) -> list[int]:
    """The file's ids; a line that is not one is skipped (X ignores it too)."""
    return [int(line) for line in (raw.strip() for raw in lines) if line.isdigit()]


def results(kind: str, ids: list[int]) -> str:
    lines = _tweet_results(ids) if kind == "tweets" else _user_results(ids)
    return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)


def _line(x_id: int, created_at: datetime, redacted_at: datetime, reason: str) -> dict:
    return {
        "id": str(x_id),
        "action": "delete",
        "created_at": _time(created_at),
        "redacted_at": _time(redacted_at),
        "reason": reason,
    }


def _tweet_results(ids: list[int]) -> list[dict]:
    """Read from the few rows that need action (redactions, protected authors' tweets),
    kept when uploaded: a file of millions of ids costs no query of that size."""
    wanted = set(ids)
    out = [
        _line(gone.tweet_id, snowflake.to_datetime(gone.tweet_id), gone.redacted_at, gone.reason)
        for gone in Redaction.objects.order_by("tweet_id").iterator()
        if gone.tweet_id in wanted
    ]
    hidden = Tweet.objects.exclude(author__compliance="").select_related("author").order_by("id")
    for tweet in hidden.iterator():
        if tweet.id in wanted:
            author = tweet.author
            out.append(_line(tweet.id, tweet.created_at, author.compliance_at, author.compliance))
    return out


def _user_results(ids: list[int]) -> list[dict]:
    wanted = set(ids)
    accounts = Account.objects.exclude(compliance="").order_by("id")
    return [
        _line(a.id, a.created_at, a.compliance_at, a.compliance) for a in accounts if a.id in wanted
    ]


# --- what a persona does on X (the persona page) --------------------------------------------


@transaction.atomic
def delete_tweet(author: Account, tweet_id: int) -> bool:
    """The author deletes their own tweet: gone from every endpoint, remembered for
    compliance jobs. False if it is not theirs (or not there)."""
    deleted, _ = Tweet.objects.filter(id=tweet_id, author=author).delete()
    if deleted:
        Redaction.objects.get_or_create(tweet_id=tweet_id, defaults={"author_id": author.id})
    return bool(deleted)


def set_protected(account: Account, protected: bool) -> None:
    account.compliance = "protected" if protected else ""
    account.compliance_at = timezone.now() if protected else None
    account.save(update_fields=["compliance", "compliance_at"])
