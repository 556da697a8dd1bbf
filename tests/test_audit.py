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


# --- the committed snapshot (.ci/advisories.json), CI's audit on every run ------------------


def _git_copy(db: Path) -> Path:
    """The fake database as a git copy: a snapshot records the copy's commit and date."""
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "HOME": str(db)}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin"}
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "advisories"]):
        subprocess.run(["git", *command], cwd=db, env=env, check=True)  # noqa: S603, S607
    return db


def snapshot_audit(snapshot: Path, *packages: str, refresh: Path | None = None):
    script = ROOT / ".ci" / "audit.py"
    if refresh is not None:
        command = [sys.executable, str(script), "--refresh-snapshot", str(refresh)]
        command += ["--snapshot", str(snapshot), "--packages", *packages]
    else:
        command = [sys.executable, str(script), "--snapshot", str(snapshot)]
        command += ["--packages", *packages]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT)  # noqa: S603


def test_the_snapshot_carries_the_advisories_of_the_packages_it_was_taken_for(db, tmp_path):
    import json

    snapshot = tmp_path / "advisories.json"
    taken = snapshot_audit(snapshot, "example-lib==1.0", "django==5.2", refresh=_git_copy(db))
    assert taken.returncode == 0, taken.stderr
    data = json.loads(snapshot.read_text())
    assert [a["id"] for a in data["advisories"]["example-lib"]] == ["PYSEC-2099-1", "PYSEC-2099-2"]
    assert data["names_with_advisories"] == ["example-lib"] and len(data["commit"]) == 40
    assert "CC-BY-4.0" in data["licence"] and data["source"].endswith("pypa/advisory-database")
    failed = snapshot_audit(snapshot, "example-lib==2.0.2")
    assert failed.returncode == 1 and "PYSEC-2099-1 (CVE-2099-0001)" in failed.stdout
    assert snapshot_audit(snapshot, "example-lib==2.0.3", "django==5.2").returncode == 0


def test_a_package_with_advisories_the_snapshot_lacks_fails_until_it_is_refreshed(db, tmp_path):
    snapshot = tmp_path / "advisories.json"
    snapshot_audit(snapshot, "django==5.2", refresh=_git_copy(db))  # taken without example-lib
    done = snapshot_audit(snapshot, "example-lib==2.0.3")  # a new dependency since
    assert done.returncode == 1 and "example-lib" in done.stderr and "Refresh" in done.stderr
    # A package the database has no advisory for is covered: nothing was known of it.
    assert snapshot_audit(snapshot, "never-advised==1.0").returncode == 0


def test_a_pinned_vulnerable_django_fails_the_committed_snapshot():
    """Issue 22's proof: the audit CI runs, on a fake installed set with Django 4.2.0."""
    done = snapshot_audit(ROOT / ".ci" / "advisories.json", "django==4.2.0", "celery==5.7.0")
    assert done.returncode == 1
    assert "django 4.2.0: PYSEC-2023-61 (CVE-2023-31047)" in done.stdout
    assert "AUDIT FAILED" in done.stderr and "celery" not in done.stdout.split("read")[-1]


def _audit_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pypi_answers(monkeypatch, answers: dict):
    import io
    import json
    import urllib.error
    import urllib.request

    def urlopen(url, timeout):
        name = url.rstrip("/").split("/")[-2]
        if name not in answers:
            raise urllib.error.URLError("unreachable")
        return io.BytesIO(json.dumps(answers[name]).encode())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)


def test_pypi_a_yanked_version_fails_unless_accepted(monkeypatch, capsys):
    audit_module = _audit_module()
    yanked = {"yanked": True, "yanked_reason": "broken TLS check"}
    _pypi_answers(
        monkeypatch,
        {
            "example-lib": {"releases": {"1.0": [yanked], "1.1": [{}]}, "vulnerabilities": []},
            "other": {"releases": {"2.0": [{"yanked": False}]}, "vulnerabilities": []},
        },
    )
    packages = {"example-lib": "1.0", "other": "2.0", "gone": "1.0"}
    assert audit_module.pypi(packages, []) == 1
    out = capsys.readouterr().out
    assert "example-lib 1.0: yanked on PyPI (broken TLS check)" in out
    assert "not read (reported, not failed): gone (<urlopen error unreachable>)" in out
    assert audit_module.pypi({"gone": "1.0"}, []) == 0  # reported, not a failure of its own
    assert audit_module.pypi(packages, ["YANKED:example-lib==1.0"]) == 0


def test_pypi_an_advisory_on_the_latest_release_fails_unless_fixed_in_ours(monkeypatch):
    audit_module = _audit_module()
    vuln = {"id": "GHSA-xxxx", "aliases": ["CVE-2099-9"], "fixed_in": ["3.1"], "withdrawn": None}
    _pypi_answers(
        monkeypatch, {"lib": {"releases": {"3.0": [{}], "3.1": [{}]}, "vulnerabilities": [vuln]}}
    )
    assert audit_module.pypi({"lib": "3.0"}, []) == 1
    assert audit_module.pypi({"lib": "3.1"}, []) == 0
    assert audit_module.pypi({"lib": "3.0"}, ["CVE-2099-9"]) == 0
