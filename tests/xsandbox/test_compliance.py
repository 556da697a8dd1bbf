"""The sandbox's batch compliance endpoints, in X's published format, over real HTTP."""

from __future__ import annotations

import json

import requests

from tests.sandbox import CREDENTIALS, Sandbox
from twelp.xsandbox import compliance
from twelp.xsandbox.models import Redaction, Tweet

BEARER = {"Authorization": f"Bearer {CREDENTIALS['X_BEARER_TOKEN']}"}


def _create(sandbox: Sandbox, kind: str) -> dict:
    answer = requests.post(
        f"{sandbox.url}/2/compliance/jobs", json={"type": kind, "name": "t"}, headers=BEARER
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def _status(sandbox: Sandbox, job_id: str) -> str:
    answer = requests.get(f"{sandbox.url}/2/compliance/jobs/{job_id}", headers=BEARER)
    return answer.json()["data"]["status"]


def test_a_tweets_job_reports_a_deleted_tweet_and_a_protected_authors(sandbox: Sandbox):
    maya, tomasz = sandbox.customers[:2]
    gone = sandbox.tweet_at_brand(maya, "delete me")
    hidden = sandbox.tweet_at_brand(tomasz, "I go protected")
    kept = sandbox.tweet_at_brand(maya, "I stay")
    assert compliance.delete_tweet(maya, gone.id)
    assert not compliance.delete_tweet(maya, kept.id + 999)  # not theirs, not there
    compliance.set_protected(tomasz, True)
    job = _create(sandbox, "tweets")
    assert set(job) >= {"id", "type", "status", "upload_url", "download_url", "created_at"}
    assert (job["type"], job["status"], job["resumable"]) == ("tweets", "created", False)
    assert job["upload_url"].startswith(sandbox.url + "/_sandbox/compliance/")
    ids = f"{gone.id}\n{hidden.id}\n{kept.id}\nnot-an-id\n12345\n"
    put = requests.put(job["upload_url"], data=ids, headers={"Content-Type": "text/plain"})
    assert put.status_code == 200
    assert requests.get(job["download_url"]).status_code == 404  # not complete yet
    assert _status(sandbox, job["id"]) == "in_progress"
    assert _status(sandbox, job["id"]) == "complete"
    lines = [json.loads(line) for line in requests.get(job["download_url"]).text.splitlines()]
    assert [(line["id"], line["action"], line["reason"]) for line in lines] == [
        (str(gone.id), "delete", "deleted"),
        (str(hidden.id), "delete", "protected"),
    ]
    assert lines[0]["created_at"].endswith(".000Z") and lines[0]["redacted_at"].endswith("Z")
    assert not Tweet.objects.filter(id=gone.id).exists() and Redaction.objects.count() == 1


def test_a_users_job_reports_the_protected_account(sandbox: Sandbox):
    maya, tomasz = sandbox.customers[:2]
    compliance.set_protected(maya, True)
    job = _create(sandbox, "users")
    requests.put(job["upload_url"], data=f"{maya.id}\n{tomasz.id}\n")
    _status(sandbox, job["id"]), _status(sandbox, job["id"])
    [line] = requests.get(job["download_url"]).text.splitlines()
    assert json.loads(line) | {"created_at": "", "redacted_at": ""} == {
        "id": str(maya.id),
        "action": "delete",
        "reason": "protected",
        "created_at": "",
        "redacted_at": "",
    }


def test_bad_requests_and_bad_signatures_are_refused(sandbox: Sandbox):
    answer = requests.post(f"{sandbox.url}/2/compliance/jobs", json={"type": "dms"}, headers=BEARER)
    assert answer.status_code == 400
    assert (
        requests.post(f"{sandbox.url}/2/compliance/jobs", json={"type": "users"}).status_code == 401
    )
    job = _create(sandbox, "users")
    forged = job["upload_url"].split("?")[0] + "?token=forged"
    assert requests.put(forged, data="1\n").status_code == 403
    assert requests.put(job["upload_url"], data="1\n").status_code == 200
    assert requests.put(job["upload_url"], data="1\n").status_code == 409  # once only
    missing = requests.get(f"{sandbox.url}/2/compliance/jobs/999", headers=BEARER).json()
    assert missing["errors"][0]["resource_type"] == "compliance_job"


def test_a_job_fails_when_its_processing_fault_is_on(sandbox: Sandbox):
    sandbox.fault("unavailable", "compliance_processing", count=1)
    job = _create(sandbox, "users")
    requests.put(job["upload_url"], data="1\n")
    assert [_status(sandbox, job["id"]) for _ in range(3)] == ["in_progress", "failed", "failed"]


def test_a_file_past_djangos_upload_limit_is_read(sandbox: Sandbox):
    maya = sandbox.customers[0]
    gone = sandbox.tweet_at_brand(maya, "delete me")
    compliance.delete_tweet(maya, gone.id)
    job = _create(sandbox, "tweets")
    ids = "".join(f"{10**15 + n}\n" for n in range(300_000)) + f"{gone.id}\n"  # ~5 MB
    assert requests.put(job["upload_url"], data=ids).status_code == 200
    _status(sandbox, job["id"]), _status(sandbox, job["id"])
    [line] = requests.get(job["download_url"]).text.splitlines()
    assert json.loads(line)["id"] == str(gone.id)
