"""CI's dependency audit (.ci/audit.py). `--ci`, what .ci/run runs: an accepted advisory
passes, an expired acceptance fails, an advisory nobody accepted fails, PyPI out of reach
falls back to the committed snapshot with a warning, npm's registry refusing (405) or out
of time is a warning; npm audit runs for real against a small registry in this process.
The single modes: against a small advisory database in PyPA's (OSV) format, the committed
snapshot, PyPI's project JSON."""

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
        'reason = "Only its CLI is affected."\naccepted_until = {date}\n'
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
    assert expired.returncode == 1 and "past their accepted_until date" in expired.stderr


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
    assert audit_module.pypi(packages, {}) == 1
    out = capsys.readouterr().out
    assert "example-lib 1.0: yanked on PyPI (broken TLS check)" in out
    assert "not read (reported, not failed): gone (<urlopen error unreachable>)" in out
    assert audit_module.pypi({"gone": "1.0"}, {}) == 0  # reported, not a failure of its own
    assert audit_module.pypi(packages, {"YANKED:example-lib==1.0": "example-lib"}) == 0


def test_pypi_an_advisory_on_the_latest_release_fails_unless_fixed_in_ours(monkeypatch):
    audit_module = _audit_module()
    vuln = {"id": "GHSA-xxxx", "aliases": ["CVE-2099-9"], "fixed_in": ["3.1"], "withdrawn": None}
    _pypi_answers(
        monkeypatch, {"lib": {"releases": {"3.0": [{}], "3.1": [{}]}, "vulnerabilities": [vuln]}}
    )
    assert audit_module.pypi({"lib": "3.0"}, {}) == 1
    assert audit_module.pypi({"lib": "3.1"}, {}) == 0
    assert audit_module.pypi({"lib": "3.0"}, {"CVE-2099-9": "lib"}) == 0
    assert audit_module.pypi({"lib": "3.0"}, {"CVE-2099-9": "other"}) == 1  # not for lib


# --- --ci: what .ci/run runs -----------------------------------------------------------------

ESBUILD = {
    "id": 1102341,
    "url": "https://github.com/advisories/GHSA-67mh-4wv8-2f99",
    "title": "esbuild enables any website to send any requests to the development server",
    "severity": "moderate",
    "vulnerable_versions": "<=0.24.2",
    "cwe": ["CWE-346"],
    "cvss": {"score": 5.3, "vectorString": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N"},
}
ACCEPT_ESBUILD = """\
[[accept]]
id = "GHSA-67mh-4wv8-2f99"
package = "{package}"
reason = "Its dev server only; we only build."
accepted_until = {until}
"""


@pytest.fixture
def registry():
    """An npm registry on loopback answering npm audit's bulk advisory request (npm itself
    runs against it): `answer` is what it says (advisories by package, an HTTP status, or
    seconds to wait before answering nothing); the packages npm asked about are kept."""
    import gzip
    import json
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = {"answer": {}, "asked": []}

    class Registry(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            state["asked"].append(json.loads(body or b"{}"))
            answer = state["answer"]
            if isinstance(answer, float):
                time.sleep(answer)
                answer = 504
            if isinstance(answer, int) or not self.path.endswith("/advisories/bulk"):
                self.send_response(answer if isinstance(answer, int) else 405)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # package documents: npm audit only wants them to suggest fixes
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_port}/"
    yield state
    server.shutdown()


def ci_audit(registry, *packages, accepted="", budget=50, tmp_path: Path):
    """`--ci` on the given pins and js-build's lock file (esbuild 0.24.2), with the network
    as these tests want it: PyPI out of reach (a proxy that refuses: pip-audit and the
    project JSON cannot ask), npm's registry the one above."""
    import os

    (tmp_path / "accepted.toml").write_text(accepted)
    command = [sys.executable, str(ROOT / ".ci" / "audit.py"), "--ci", "--budget", str(budget)]
    command += ["--accepted", str(tmp_path / "accepted.toml")]
    command += ["--lock-files", str(ROOT / "js-build" / "package-lock.json")]
    command += ["--packages", *packages]
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    env |= {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    env |= {"npm_config_registry": registry["url"], "npm_config_cache": str(tmp_path / "npm")}
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)  # noqa: S603


def test_ci_an_accepted_advisory_passes(registry, tmp_path):
    registry["answer"] = {"esbuild": [ESBUILD]}
    accepted = ACCEPT_ESBUILD.format(package="esbuild", until="2999-01-01")
    done = ci_audit(registry, "idna==3.7", accepted=accepted, tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "accepted: esbuild 0.24.2 (<=0.24.2): GHSA-67mh-4wv8-2f99" in done.stdout
    assert "audit passed" in done.stdout
    assert registry["asked"][0]["esbuild"] == ["0.24.2"]  # npm asked about the locked set


def test_ci_an_expired_acceptance_fails(registry, tmp_path):
    registry["answer"] = {"esbuild": [ESBUILD]}
    accepted = ACCEPT_ESBUILD.format(package="esbuild", until="2020-01-01")
    done = ci_audit(registry, "idna==3.7", accepted=accepted, tmp_path=tmp_path)
    assert done.returncode == 1
    assert (
        "FAILED: accepted.toml: an acceptance is past its date: GHSA-67mh-4wv8-2f99"
        " (esbuild, accepted until 2020-01-01)" in done.stdout
    )
    # and void: the advisory itself fails again
    assert "FAILED: js-build/package-lock.json: esbuild 0.24.2" in done.stdout
    assert "AUDIT FAILED" in done.stderr


@pytest.mark.parametrize(
    "accepted", ["", ACCEPT_ESBUILD.format(package="twitter-text", until="2999-01-01")]
)
def test_ci_an_advisory_nobody_accepted_fails(registry, tmp_path, accepted):
    """Not in the list, or accepted for another package only."""
    registry["answer"] = {"esbuild": [ESBUILD]}
    done = ci_audit(registry, "idna==3.7", accepted=accepted, tmp_path=tmp_path)
    assert done.returncode == 1
    assert (
        "FAILED: js-build/package-lock.json: esbuild 0.24.2 (<=0.24.2): GHSA-67mh-4wv8-2f99"
        in done.stdout
    )


def test_ci_pypi_out_of_reach_falls_back_to_the_snapshot_with_a_warning(registry, tmp_path):
    registry["answer"] = 405  # as registry.npmjs.org answers on these machines
    clean = ci_audit(registry, "idna==3.7", "django==5.2.19", tmp_path=tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "WARNING: pip-audit could not ask PyPI" in clean.stdout
    assert "WARNING: PyPI project JSON: 2 of 2 projects not read" in clean.stdout
    assert "WARNING: 2 of 2 packages audited against the snapshot (advisories.json)" in clean.stdout
    said = "WARNING: npm audit of js-build/package-lock.json: the registry did not answer"
    assert said in clean.stdout
    # The snapshot is the gate then: a vulnerable pin fails, naming the advisory.
    vulnerable = ci_audit(registry, "idna==3.6", "django==5.2.19", tmp_path=tmp_path)
    assert vulnerable.returncode == 1
    assert "FAILED: snapshot: idna 3.6: PYSEC-2024-60 (CVE-2024-3651)" in vulnerable.stdout


def test_ci_a_step_out_of_time_is_a_warning(registry, tmp_path):
    registry["answer"] = 60.0  # npm's registry never answers in time
    done = ci_audit(registry, "idna==3.7", budget=8, tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING: npm audit of js-build/package-lock.json: out of time" in done.stdout


def test_ci_reads_pip_audits_findings_where_pypi_answers(monkeypatch, capsys):
    """pip-audit's JSON (its --format json, as 2.x writes it) where PyPI's per-version JSON
    answers: a finding fails unless accepted for that package; what it skipped is unread."""
    import json

    audit_module = _audit_module()
    said = {
        "dependencies": [
            {
                "name": "idna",
                "version": "3.6",
                "vulns": [
                    {
                        "id": "PYSEC-2024-60",
                        "fix_versions": ["3.7"],
                        "aliases": ["CVE-2024-3651", "GHSA-jjg7-2v4v-x38h"],
                        "description": "Quadratic complexity in idna.encode.",
                    }
                ],
            },
            {"name": "Django", "version": "5.2.19", "vulns": []},
            {"name": "gone", "skip_reason": "Dependency not found on PyPI: gone (1.0)"},
        ],
        "fixes": [],
    }
    answered = subprocess.CompletedProcess([], 1, stdout=json.dumps(said), stderr="")
    monkeypatch.setattr(audit_module.subprocess, "run", lambda *a, **k: answered)
    pins = {"idna": "3.6", "django": "5.2.19", "gone": "1.0"}

    report = audit_module.Report()
    assert audit_module.pip_audit(pins, {}, 30, report) == {"idna", "django"}
    assert report.failures == ["idna 3.6: PYSEC-2024-60 (fixed in 3.7)"]
    assert "could not read 1 packages" in report.warnings[0]

    report = audit_module.Report()
    audit_module.pip_audit(pins, {"CVE-2024-3651": "idna"}, 30, report)
    assert report.failures == [] and "accepted: idna 3.6: PYSEC-2024-60" in capsys.readouterr().out
