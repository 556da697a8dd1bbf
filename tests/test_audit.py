"""CI's dependency audit offline (.ci/audit.py --offline): a known vulnerability of a given
version fails it, a fixed version or an accepted advisory passes, an acceptance past its
review date fails, against a small advisory database in PyPA's (OSV) format."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADVISORY = """\
id: PYSEC-2099-1
aliases:
- CVE-2099-0001
details: Something bad in Example-Lib before 2.0.3 and in 3.0.
affected:
- package:
    ecosystem: PyPI
    name: example-lib
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - fixed: 2.0.3
  versions:
  - "3.0"
"""
WITHDRAWN = """\
id: PYSEC-2099-2
withdrawn: 2099-01-02T00:00:00Z
affected:
- package:
    ecosystem: PyPI
    name: example-lib
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    folder = tmp_path / "advisories" / "vulns" / "Example_Lib"  # named as PyPI spells it
    folder.mkdir(parents=True)
    (folder / "PYSEC-2099-1.yaml").write_text(ADVISORY)
    (folder / "PYSEC-2099-2.yaml").write_text(WITHDRAWN)
    return tmp_path / "advisories"


def audit(db: Path, *packages: str, accepted: str | None = None, tmp_path: Path | None = None):
    script = ROOT / ".ci" / "audit.py"
    if accepted is not None:  # a copy of the script beside its own acceptances
        assert tmp_path is not None
        (tmp_path / "ci").mkdir(exist_ok=True)
        (tmp_path / "ci" / "audit.py").write_text(script.read_text())
        (tmp_path / "ci" / "audit-accepted.toml").write_text(accepted)
        script = tmp_path / "ci" / "audit.py"
    command = [sys.executable, str(script), "--offline", str(db), "--packages", *packages]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT)  # noqa: S603


@pytest.mark.parametrize("pin", ["example-lib==2.0.2", "Example.Lib==1.0", "example_lib==3.0"])
def test_a_known_vulnerable_version_fails_the_audit(db, pin):
    done = audit(db, pin, "django==5.2")
    assert done.returncode == 1
    assert "PYSEC-2099-1 (CVE-2099-0001)" in done.stdout and "AUDIT FAILED" in done.stderr
    assert "PYSEC-2099-2" not in done.stdout  # withdrawn


@pytest.mark.parametrize("pin", ["example-lib==2.0.3", "example-lib==3.0.1", "other==1.0"])
def test_a_fixed_or_unaffected_version_passes(db, pin):
    done = audit(db, pin)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no known vulnerability" in done.stdout


def test_an_accepted_advisory_passes_until_its_review_date(db, tmp_path):
    entry = (
        '[[accept]]\nid = "CVE-2099-0001"\npackage = "example-lib"\n'
        'reason = "Only its CLI is affected."\nreview_by = {date}\n'
    )
    assert (
        audit(
            db, "example-lib==2.0.2", accepted=entry.format(date="2999-01-01"), tmp_path=tmp_path
        ).returncode
        == 0
    )
    expired = audit(
        db, "example-lib==2.0.2", accepted=entry.format(date="2020-01-01"), tmp_path=tmp_path
    )
    assert expired.returncode == 1 and "past their review date" in expired.stderr
