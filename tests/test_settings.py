"""Settings come from the environment and fail loudly when wrong."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests import processes
from twelp.env import envbool, envint, envlist, envsecret

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "twelp.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/twelp",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def process_env(**env: str) -> dict[str, str]:
    """This environment less what tests set for themselves (browser tests allow async ORM)."""
    drop = {*PRODUCTION, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **env}


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return processes.run(
        [sys.executable, "-c", code],
        env=process_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_in_production_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = run_python("import twelp.settings", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_it_refuses_to_start_in_production_without_allowed_hosts():
    env = {k: v for k, v in PRODUCTION.items() if k != "ALLOWED_HOSTS"}
    result = run_python("import twelp.settings", **env)
    assert "ALLOWED_HOSTS" in result.stderr


def test_it_starts_with_production_values():
    result = run_python(
        "import twelp.settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT)", **PRODUCTION
    )
    assert result.stdout.strip() == "False True", result.stderr


def test_it_passes_the_deploy_check_with_production_values():
    result = processes.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=process_env(**PRODUCTION),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("value", ["maybe", "2", "yes please"])
def test_it_refuses_a_malformed_boolean(monkeypatch, value):
    monkeypatch.setenv("SOME_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        envbool("SOME_FLAG", False)


def test_it_reads_booleans_and_lists(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "Yes")
    monkeypatch.setenv("SOME_LIST", "a.example, b.example,")
    assert envbool("SOME_FLAG", False) is True
    assert envlist("SOME_LIST") == ["a.example", "b.example"]


def test_it_refuses_a_malformed_or_too_small_integer(monkeypatch):
    monkeypatch.setenv("SOME_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        envint("SOME_INT", 1)
    monkeypatch.setenv("SOME_INT", "-1")
    with pytest.raises(ImproperlyConfigured, match="minimum"):
        envint("SOME_INT", 1, minimum=0)


def test_an_empty_setting_means_its_default(monkeypatch):
    """docker-compose.yml passes every setting as `${NAME:-}`: one missing from .env is empty."""
    for name in ("SOME_FLAG", "SOME_INT", "SOME_LIST"):
        monkeypatch.setenv(name, " ")
    assert envbool("SOME_FLAG", True) is True
    assert envint("SOME_INT", 7) == 7
    assert envlist("SOME_LIST", ["a"]) == ["a"]
    with pytest.raises(ImproperlyConfigured, match="SOME_INT is required"):
        envint("SOME_INT")


def test_an_empty_secret_key_in_production_refuses_to_start():
    result = run_python("import twelp.settings", **{**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "The environment variable SECRET_KEY is required" in result.stderr


def test_empty_security_settings_keep_their_production_values():
    empty = {"SECURE_SSL_REDIRECT": "", "SECURE_COOKIES": "", "SECURE_HSTS_SECONDS": ""}
    code = "import twelp.settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)"
    result = run_python(code, **PRODUCTION, **empty)
    assert result.stdout.strip() == "True 31536000", result.stderr


def test_it_refuses_a_short_secret(monkeypatch):
    monkeypatch.setenv("SOME_SECRET", "short")
    with pytest.raises(ImproperlyConfigured, match="32 characters"):
        envsecret("SOME_SECRET")


def test_it_prepares_hot_statements_unless_a_pooler_forbids_it():
    code = "import twelp.settings as s; print(s.DATABASES['default']['OPTIONS'])"
    assert "'prepare_threshold': 5" in run_python(code, **PRODUCTION).stdout
    off = run_python(code, **PRODUCTION, DB_PREPARED_STATEMENTS="false")
    assert "'prepare_threshold': None" in off.stdout, off.stderr


def test_the_connection_pool_is_off_by_default_and_bounded_when_on():
    code = (
        "import twelp.settings as s; d = s.DATABASES['default'];"
        " print(d['CONN_MAX_AGE'], d['OPTIONS'].get('pool'))"
    )
    off = run_python(code, **PRODUCTION)
    assert off.stdout.strip() == "60 None", off.stderr
    # Django's pool refuses persistent connections: on, CONN_MAX_AGE is 0 whatever is set.
    on = run_python(code, **PRODUCTION, DB_POOL_MAX="4", DB_CONN_MAX_AGE="60")
    assert on.stdout.strip() == "0 {'min_size': 2, 'max_size': 4, 'timeout': 10}", on.stderr
    small = run_python(code, **PRODUCTION, DB_POOL_MAX="1")
    assert small.stdout.strip() == "0 {'min_size': 1, 'max_size': 1, 'timeout': 10}"
    wrong = run_python(code, **PRODUCTION, DB_POOL_MAX="2", DB_POOL_MIN="3")
    assert "DB_POOL_MIN=3 exceeds DB_POOL_MAX=2" in wrong.stderr


def test_sixteen_threads_share_the_pools_two_connections():
    """The pool really bounds a process: 16 threads querying at once use 2 server backends."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("needs a PostgreSQL server in DATABASE_URL (the embedded one is per test run)")
    code = """
import django, threading
django.setup()
from django.db import connection
pids = set()
def work():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), pg_sleep(0.05)")
        pids.add(cursor.fetchone()[0])
    connection.close()  # back to the pool, as Django does at the end of a request
threads = [threading.Thread(target=work) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
print(len(pids), type(connection.pool).__name__, connection.pool.max_size)
"""
    server = url.rsplit("/", 1)[0] + "/postgres"
    env = {
        **PRODUCTION,
        "DATABASE_URL": server,
        "DB_POOL_MAX": "2",
        "DJANGO_SETTINGS_MODULE": "twelp.settings",
    }
    result = run_python(code, **env)
    assert result.returncode == 0, result.stderr
    used, kind, max_size = result.stdout.split()
    assert (kind, max_size) == ("ConnectionPool", "2")
    assert 1 <= int(used) <= 2, result.stdout
