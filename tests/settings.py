"""Test settings: Twelp's own, with DEBUG-style local defaults and a Redis db of its own.

The suite runs against real PostgreSQL and Redis: the servers in DATABASE_URL / REDIS_URL
when set (as in CI), else the embedded ones. The cache (and so the sessions) uses Redis
database TEST_REDIS_DB, so clearing it between tests never touches a running demo's data.
"""

from __future__ import annotations

import os
import re

os.environ.setdefault("DEBUG", "true")

from twelp.settings import *  # noqa: E402,F403
from twelp.settings import CACHES, INSTALLED_APPS, REDIS_URL, _celery_broker  # noqa: E402

TEST_REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "15"))


def _with_db(url: str, db: int) -> str:
    if url.startswith("unix://"):
        return re.sub(r"\?db=\d+$", "", url) + f"?db={db}"
    return re.sub(r"(/\d+)?$", f"/{db}", url, count=1)


CACHES["default"]["LOCATION"] = _with_db(REDIS_URL, TEST_REDIS_DB)
CACHES["default"]["KEY_PREFIX"] = "twelp-test"
# Tasks sent by tests stay in the test database too.
CELERY_BROKER_URL = _celery_broker(_with_db(REDIS_URL, TEST_REDIS_DB))
# The suite serves the X sandbox in a thread (tests/sandbox.py) and seeds its tables
# directly, so its app is installed here as in the sandbox's own settings.
INSTALLED_APPS = [*INSTALLED_APPS, "twelp.xsandbox"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
# The in-process test client must see the test's own transaction: no push thread pool
# (tests/push.py gives the real push process its pool back).
PUSH_DB_THREADS = int(os.environ.get("PUSH_DB_THREADS", "0"))
