"""bench.browsers (bench.day --browsers): real Chromium pages, in a process of their own,
log in, sit on the queue with their stream and record when each change and new row came."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from inbox.live import version
from inbox.models import Brand, Customer
from tests.browser.test_push import push_for_page  # noqa: F401 - the fixture
from tests.helpers import PASSWORD, child_env, make_agent, make_thread

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_the_pages_record_each_change_and_each_new_row(live_server, push_for_page, tmp_path):  # noqa: F811
    brand = Brand.objects.create(name="Acme", handle="acmecares", x_user_id=9_000_001)
    make_agent(brand, "alice")
    make_agent(brand, "bob")
    customer = Customer.objects.create(brand=brand, x_user_id=42, handle="kim", name="Kim")
    out = tmp_path / "pages.json"
    command = [sys.executable, "-m", "bench.browsers", "--url", live_server.url]
    command += ["--users", "alice,bob", "--password", PASSWORD, "--out", str(out)]
    pages = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=child_env()
    )
    try:
        assert pages.stdout.readline().strip() == "ready 2"
        thread = make_thread(brand, customer, 777, preview="a new mention")
        version.bump(brand.id, [thread.id])
        change = version.newest(brand.id)
        pages.stdin.write(f"row {thread.id}\n")
        pages.stdin.flush()
        assert pages.stdout.readline().strip() == f"shown {thread.id}"
    finally:
        pages.communicate("stop\n", timeout=60)
    found = json.loads(out.read_text())
    assert not found["errors"] and [p["user"] for p in found["pages"]] == ["alice", "bob"]
    for page in found["pages"]:
        assert change in [event_id for _, event_id in page["applied"]]
        assert str(thread.id) in page["seen"]
