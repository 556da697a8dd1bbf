"""Migrations run from zero on an empty database, and none are missing."""

from __future__ import annotations

import os
import sys
import uuid
from io import StringIO
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command

from tests import processes


def test_it_has_no_missing_migrations(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.fixture
def empty_database():
    db = settings.DATABASES["default"]
    name = f"twelp_empty_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname="postgres",
        password=db.get("PASSWORD") or None,
        autocommit=True,
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    host = quote(str(db["HOST"]), safe="")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    yield f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{name}", name, admin
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_it_migrates_an_empty_database_from_zero(empty_database):
    url, name, admin = empty_database
    env = {**os.environ, "DATABASE_URL": url}
    result = processes.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
        tables = {
            row[0]
            for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    assert {"inbox_thread", "inbox_message", "inbox_reply", "agents_agent"} <= tables
