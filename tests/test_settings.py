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


def test_it_refuses_a_short_secret(monkeypatch):
    monkeypatch.setenv("SOME_SECRET", "short")
    with pytest.raises(ImproperlyConfigured, match="32 characters"):
        envsecret("SOME_SECRET")


def test_it_prepares_hot_statements_unless_a_pooler_forbids_it():
    code = "import twelp.settings as s; print(s.DATABASES['default']['OPTIONS'])"
    assert "'prepare_threshold': 5" in run_python(code, **PRODUCTION).stdout
    off = run_python(code, **PRODUCTION, DB_PREPARED_STATEMENTS="false")
    assert "'prepare_threshold': None" in off.stdout, off.stderr
