"""The product reaches the X sandbox only over HTTP (HOUSE.md: "the product talks to the fake
X over its wire", "the door to X knows no tables"): no module of inbox/ or agents/ imports
it, the gateway imports nothing of inbox/ or agents/, and Twelp's settings leave it out."""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import pytest

from tests import processes

ROOT = Path(__file__).resolve().parent.parent.parent


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(TREES[path]):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


# Parsed as the module is collected, never while a test runs (CPython 3.11's ast.parse can
# fail with "AST constructor recursion depth mismatch" beside threads: python/cpython#106905).
TREES = {
    path: ast.parse(path.read_text(), filename=str(path))
    for path in [*(ROOT / "inbox").rglob("*.py"), *(ROOT / "agents").rglob("*.py")]
    + [ROOT / "twelp" / "xgateway.py"]
}


@pytest.mark.parametrize("package", ["inbox", "agents"])
def test_the_product_never_imports_the_sandbox(package: str):
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in imported_modules(path) if "xsandbox" in n)
        for path in (ROOT / package).rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_gateway_knows_no_tables():
    names = imported_modules(ROOT / "twelp" / "xgateway.py")
    assert [n for n in names if n.split(".")[0] in ("inbox", "agents")] == []


def test_twelps_settings_leave_the_sandbox_app_out():
    code = (
        "import django; django.setup(); from django.apps import apps; "
        "print(apps.is_installed('twelp.xsandbox'))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "twelp.settings", "DEBUG": "true"}
    for settings_module, installed in [
        ("twelp.settings", "False"),
        ("twelp.xsandbox.settings", "True"),
    ]:
        env["DJANGO_SETTINGS_MODULE"] = settings_module
        done = processes.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.stdout.strip() == installed, done.stderr
