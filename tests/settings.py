"""Test settings: Twelp's own, with DEBUG-style local defaults and a Redis db of its own.

The suite runs against real PostgreSQL and Redis: the servers in DATABASE_URL / REDIS_URL
when set (as in CI), else the embedded ones. The cache (and so the sessions) and Celery's
broker use Redis database TEST_REDIS_DB, so clearing it between tests never touches a
running demo's data.

Several runs may share those servers (a helper's run beside CI beside a benchmark). Each
run has an id (TWELP_TEST_RUN_ID, else the pytest process's pid and a random token), and
its cache key prefix, its Celery queue and its test database carry it: no run reads,
clears or consumes another's keys, tasks or rows. The id is put in the environment, so
the processes a test starts (workers, gunicorn, `manage.py shell`) inherit the same names.
"""

from __future__ import annotations

import os
import re
import secrets

from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DEBUG", "true")


def _run_id() -> str:
    given = os.environ.get("TWELP_TEST_RUN_ID", "")
    if not given:
        return f"{os.getpid()}_{secrets.token_hex(3)}"
    # It names a PostgreSQL database (63 characters at most, with the rest of the name).
    if not re.fullmatch(r"[a-z0-9_]{1,20}", given):
        raise ImproperlyConfigured("TWELP_TEST_RUN_ID: up to 20 of a-z, 0-9 and _")
    return given


TEST_RUN_ID = _run_id()
os.environ["TWELP_TEST_RUN_ID"] = TEST_RUN_ID
# Read by twelp.settings, here and in every child process with production settings.
os.environ["CELERY_QUEUE"] = f"twelp-test-{TEST_RUN_ID}-tasks"
os.environ["CACHE_KEY_PREFIX"] = f"twelp-test-{TEST_RUN_ID}"

from twelp.settings import *  # noqa: E402,F403
from twelp.settings import CACHES, DATABASES, INSTALLED_APPS, REDIS_URL, _celery_broker  # noqa: E402

TEST_REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "15"))


def _with_db(url: str, db: int) -> str:
    if url.startswith("unix://"):
        return re.sub(r"\?db=\d+$", "", url) + f"?db={db}"
    return re.sub(r"(/\d+)?$", f"/{db}", url, count=1)


CACHES["default"]["LOCATION"] = _with_db(REDIS_URL, TEST_REDIS_DB)
# Tasks sent by tests stay in the test database too.
CELERY_BROKER_URL = _celery_broker(_with_db(REDIS_URL, TEST_REDIS_DB))
# pytest-django creates (and at the end drops) test_<NAME>: one per run.
DATABASES["default"].setdefault("TEST", {})["NAME"] = (
    f"test_{DATABASES['default']['NAME']}_{TEST_RUN_ID}"
)
# The suite serves the X sandbox in a thread (tests/sandbox.py) and seeds its tables
# directly, so its app is installed here as in the sandbox's own settings.
INSTALLED_APPS = [*INSTALLED_APPS, "twelp.xsandbox"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
# The in-process test client must see the test's own transaction: no push thread pool
# (tests/push.py gives the real push process its pool back).
PUSH_DB_THREADS = int(os.environ.get("PUSH_DB_THREADS", "0"))

# Requests a live server still serves when its test ends (tests/inflight.py).
MIDDLEWARE = ["tests.inflight.count", *MIDDLEWARE]  # noqa: F405
