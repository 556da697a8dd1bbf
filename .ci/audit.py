"""CI's dependency audit: the installed set (the fresh virtualenv that .ci/run builds from
pyproject.toml) and the npm lock files against known vulnerabilities. README, Run the tests.

    python .ci/audit.py --ci --budget 50      # what CI runs (.ci/run), every time
    python .ci/audit.py --ci --packages idna==3.6 ...   # a given set instead of the installed
    python .ci/audit.py --refresh-snapshot /path/to/advisory-database

`--ci`, in order, all within `--budget` seconds (each network step has a timeout; a step
out of time is a warning, and what it would have read comes from the snapshot or, for
npm, is said not to have been read):
1. pip-audit against PyPI's per-version JSON (/pypi/<name>/<version>/json), where it
   answers. On these machines it answers 404: every package pip-audit could not read is
   audited against the snapshot instead, with a warning saying so (not a failure).
2. The snapshot, .ci/advisories.json: a dated copy of PyPA's advisory database
   (github.com/pypa/advisory-database, CC-BY-4.0, OSV format: the PYSEC advisories PyPI
   serves) holding the advisories of the packages we install, and the names of every
   package the database has advisories for: a package with advisories the snapshot does
   not carry (a new dependency) fails until the snapshot is refreshed. As current as the
   snapshot and no more: its commit and date are printed, a warning past STALE_DAYS.
   `--refresh-snapshot DB` writes it anew from a copy of the database (a checkout or a
   bare git directory) for the installed set.
3. `npm audit` of each lock file (package-lock.json: axe-core for the tests;
   js-build/package-lock.json: the vendored bundle's build tools), nothing installed. It
   needs the registry's advisory endpoint (POST /-/npm/v1/security/advisories/bulk),
   which answers 405 here: a warning.
4. Last, in the time left: PyPI's project JSON (/pypi/<name>/json, which does answer
   here): a yanked installed version fails (accepted as YANKED:name==version), and so
   does an advisory PyPI lists on a project's latest release that the installed version
   is not fixed in. A project not answered (or not in time) is reported, not failed (it
   adds to the above, never replaces them).
Exit 0 only when nothing known and unaccepted is found. An acceptance in
.ci/audit-accepted.toml names the advisory's id (or an alias), the package, why it does
not reach Twelp, and an accepted_until date; past it the acceptance is void and fails the
audit until someone looks again. The single modes (`--snapshot`, `--pypi`, `--offline DB`
for a whole copy of the database) remain for looking at one source alone.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from importlib import metadata
from pathlib import Path

ACCEPTED = Path(__file__).with_name("audit-accepted.toml")
SNAPSHOT = Path(__file__).with_name("advisories.json")
STALE_DAYS = 90
ROOT = Path(__file__).resolve().parent.parent


def load_accepted(today: datetime.date, path: Path = ACCEPTED) -> tuple[dict[str, str], list[str]]:
    """The acceptances in force (advisory id -> the package it is accepted for) and those
    past their accepted_until date (void: each fails the audit until renewed or removed)."""
    entries = tomllib.loads(path.read_text()).get("accept", [])
    ids, expired = {}, []
    for entry in entries:
        missing = {"id", "package", "reason", "accepted_until"} - set(entry)
        if missing or not isinstance(entry["accepted_until"], datetime.date):
            sys.exit(
                f"{path.name}: an entry lacks {sorted(missing) or 'a date'} (id, package,"
                f" reason, accepted_until = YYYY-MM-DD): {entry}"
            )
        if entry["accepted_until"] < today:
            expired.append(
                f"{entry['id']} ({entry['package']}, accepted until {entry['accepted_until']})"
            )
        else:
            ids[entry["id"]] = _name(entry["package"])
    return ids, expired


def accepted_ids(today: datetime.date) -> dict[str, str]:
    """The acceptances in force; an expired one ends the audit (the modes other than --ci,
    which reports it with the rest)."""
    ids, expired = load_accepted(today)
    if expired:
        sys.exit(
            f"{ACCEPTED.name}: acceptances past their accepted_until date: {', '.join(expired)}"
        )
    return ids


def _accepted(ids: set[str], name: str, accepted: dict[str, str]) -> bool:
    """One of an advisory's ids (or aliases) is accepted, for this very package."""
    return any(accepted.get(i) == _name(name) for i in ids)


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def installed() -> dict[str, str]:
    """The installed distributions (this interpreter's), Twelp itself left out."""
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and _name(name) != "twelp":
            found[_name(name)] = dist.version
    return found


def _advisories(db: Path) -> tuple[Path, str]:
    """The folder holding vulns/ and a line saying which copy it is (commit, date)."""
    git = ["git", f"--git-dir={db / '.git' if (db / '.git').exists() else db}"]
    # Safe: git with an argument list, no shell; reads the copy's own metadata.
    stamp = subprocess.run(  # noqa: S603
        [*git, "log", "-1", "--format=%H %cI"], capture_output=True, text=True
    ).stdout.strip()
    if (db / "vulns").is_dir():
        return db, stamp
    archive = subprocess.run([*git, "archive", "HEAD", "vulns"], capture_output=True)  # noqa: S603
    if archive.returncode != 0:
        sys.exit(f"{db}: neither a folder with vulns/ nor a git copy of the advisory database")
    folder = Path(tempfile.mkdtemp(prefix="advisories-"))
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder, stamp


def _affects(entry: dict, version: str) -> bool:
    from packaging.version import InvalidVersion, Version

    if version in {str(v) for v in entry.get("versions", [])}:
        return True
    try:
        have = Version(version)
    except InvalidVersion:
        return False
    for span in entry.get("ranges", []):
        if span.get("type") != "ECOSYSTEM":
            continue
        start = None
        for event in span.get("events", []):
            if "introduced" in event:
                start = Version(str(event["introduced"]))
            elif start is not None and ("fixed" in event or "last_affected" in event):
                end = Version(str(event.get("fixed", event.get("last_affected"))))
                inside = have < end if "fixed" in event else have <= end
                if start <= have and inside:
                    return True
                start = None
        if start is not None and start <= have:
            return True
    return False


def _load_db(db: Path) -> tuple[dict[str, list[dict]], str]:
    """Every advisory of a copy of the database, by the PyPI name it affects, and the
    copy's stamp (commit, date)."""
    import yaml

    folder, stamp = _advisories(db)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    by_name: dict[str, list[dict]] = {}
    for path in sorted((folder / "vulns").glob("*/*.yaml")):
        advisory = yaml.load(path.read_text(), Loader=loader)  # noqa: S506 (a safe loader)
        names = {
            _name(entry.get("package", {}).get("name", ""))
            for entry in advisory.get("affected", [])
            if entry.get("package", {}).get("ecosystem") == "PyPI"
        }
        for name in names - {""}:
            by_name.setdefault(name, []).append(advisory)
    return by_name, stamp


def _check(
    by_name: dict[str, list[dict]],
    packages: dict[str, str],
    accepted: dict[str, str],
    uncovered: set[str] = frozenset(),
    found_into: list[str] | None = None,
) -> int:
    """Each package against its advisories; exit status (module docstring)."""
    found, checked = [], 0
    for name, version in sorted(packages.items()):
        for advisory in by_name.get(name, []):
            checked += 1
            if advisory.get("withdrawn"):
                continue
            ids = {advisory["id"], *advisory.get("aliases", [])}
            for entry in advisory.get("affected", []):
                package = entry.get("package", {})
                if package.get("ecosystem") != "PyPI" or _name(package.get("name", "")) != name:
                    continue
                if _affects(entry, version) and not _accepted(ids, name, accepted):
                    also = ", ".join(sorted(ids - {advisory["id"]}))
                    found.append(f"{name} {version}: {advisory['id']} ({also})")
                    break
    print(f"{len(packages)} packages, {checked} advisories of theirs read")
    if found_into is not None:
        found_into.extend(found)
    failed = 0
    if uncovered:
        print(
            f"\nAUDIT FAILED: {', '.join(sorted(uncovered))}: the database has advisories for"
            f" these packages but the snapshot ({SNAPSHOT.name}) does not carry them (a new"
            " dependency?). Refresh the snapshot: python .ci/audit.py --refresh-snapshot DIR"
            " (README, Run the tests).",
            file=sys.stderr,
        )
        failed = 1
    if found:
        print("\n".join(found))
        print(
            "\nAUDIT FAILED: a known vulnerability above. Upgrade the package, or accept the"
            f" advisory in .ci/{ACCEPTED.name} with a reason and an accepted_until date.",
            file=sys.stderr,
        )
        return 1
    if not failed:
        print("no known vulnerability in this database")
    return failed


def _too_old(when: datetime.datetime | None, max_age: int | None) -> bool:
    if max_age is None:
        return False
    now = datetime.datetime.now(datetime.UTC)
    if when is None or (now - when).days > max_age:
        print(f"AUDIT FAILED: the advisory data is older than {max_age} days.", file=sys.stderr)
        return True
    return False


def offline(
    db: Path, packages: dict[str, str], accepted: dict[str, str], max_age: int | None
) -> int:
    by_name, stamp = _load_db(db)
    print(f"advisory database: {db} ({stamp or 'not a git copy: date unknown'})")
    if _too_old(datetime.datetime.fromisoformat(stamp.split()[1]) if stamp else None, max_age):
        return 1
    return _check(by_name, packages, accepted)


# --- the committed snapshot (.ci/advisories.json) ------------------------------------------

# Kept of each advisory: what the audit reads, and what a person needs to look it up.
_KEEP = ("id", "aliases", "summary", "modified", "published", "withdrawn")


def refresh_snapshot(db: Path, packages: dict[str, str], out: Path) -> None:
    """Write the snapshot: the advisories of `packages` (by name, any version) from a copy
    of PyPA's database, and the name of every package the database has advisories for."""
    by_name, stamp = _load_db(db)
    if not stamp:
        sys.exit(f"{db}: not a git copy: the snapshot needs the copy's commit and date")
    commit, date = stamp.split()
    advisories = {}
    for name in sorted(set(packages) & set(by_name)):
        kept = []
        for advisory in sorted(by_name[name], key=lambda a: a["id"]):
            one = {k: advisory[k] for k in _KEEP if k in advisory}
            if "summary" not in one and advisory.get("details"):
                one["summary"] = " ".join(advisory["details"].split())[:300]
            one["affected"] = [
                {k: entry[k] for k in ("package", "ranges", "versions") if k in entry}
                for entry in advisory.get("affected", [])
                if _name(entry.get("package", {}).get("name", "")) == name
            ]
            kept.append(json.loads(json.dumps(one, default=str)))  # dates as text
        advisories[name] = kept
    snapshot = {
        "about": (
            "Advisories of the Python packages Twelp installs, taken from the Python"
            " Packaging Advisory Database (github.com/pypa/advisory-database, vulns/, OSV"
            " format), for CI's offline dependency audit (.ci/audit.py). Only the packages"
            " below and these fields of each advisory are kept; nothing else was changed."
        ),
        "licence": (
            "CC-BY-4.0 (https://creativecommons.org/licenses/by/4.0/): the Python Packaging"
            " Advisory Database, by its contributors (the PyPA)."
        ),
        "source": "https://github.com/pypa/advisory-database",
        "commit": commit,
        "commit_date": date,
        "taken": datetime.datetime.now(datetime.UTC).date().isoformat(),
        "refresh": "python .ci/audit.py --refresh-snapshot /path/to/advisory-database",
        "packages_at_refresh": dict(sorted(packages.items())),
        "names_with_advisories": sorted(by_name),
        "advisories": advisories,
    }
    out.write_text(json.dumps(snapshot, indent=1, sort_keys=False) + "\n")
    count = sum(len(v) for v in advisories.values())
    print(f"{out}: {count} advisories of {len(advisories)} packages, database {commit} ({date})")


def audit_snapshot(
    path: Path,
    packages: dict[str, str],
    accepted: dict[str, str],
    max_age: int | None,
    found_into: list[str] | None = None,
) -> int:
    snapshot = json.loads(path.read_text())
    when = datetime.datetime.fromisoformat(snapshot["commit_date"])
    age = (datetime.datetime.now(datetime.UTC) - when).days
    print(
        f"advisory snapshot: {path.name}, PyPA advisory database {snapshot['commit'][:12]}"
        f" of {snapshot['commit_date']} ({age} days old), taken {snapshot['taken']}"
    )
    if age > STALE_DAYS:
        print(
            f"WARNING: the snapshot's data is {age} days old: advisories published since are"
            " not known to this audit. Refresh it (README, Run the tests)."
        )
    if _too_old(when, max_age):
        return 1
    known = set(snapshot["names_with_advisories"])
    uncovered = {n for n in packages if n in known and n not in snapshot["advisories"]}
    return _check(snapshot["advisories"], packages, accepted, uncovered, found_into)


# --- PyPI's project JSON (the one JSON of PyPI's these machines can read) -------------------


def pypi(
    packages: dict[str, str],
    accepted: dict[str, str],
    timeout: float = 20,
    within: float = 600,
    unread_into: list[str] | None = None,
) -> int:
    """Each installed version against its project's JSON on PyPI (/pypi/<name>/json, 200
    here; the per-version JSON answers 404): a yanked version fails (id YANKED:name==ver to
    accept it), and so does an advisory PyPI lists for the project's latest release that
    the installed version is not fixed in. A project PyPI does not answer for is reported,
    not failed (the snapshot is the gate; PyPI has no per-version data here); so is every
    project not answered within `within` seconds (each request: `timeout`)."""
    import concurrent.futures
    import urllib.error
    import urllib.request

    def ask(name: str) -> tuple[str, dict | str]:
        url = f"https://pypi.org/pypi/{name}/json"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 (https, fixed host)
                return name, json.load(answer)
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            return name, str(error)

    found, unasked = [], []
    pool = concurrent.futures.ThreadPoolExecutor(16)
    asked = [pool.submit(ask, name) for name in sorted(packages)]
    answers = []
    try:
        answers = [f.result() for f in concurrent.futures.as_completed(asked, timeout=within)]
    except TimeoutError:
        answers = [f.result() for f in asked if f.done()]
        late = sorted(set(packages) - {name for name, _ in answers})
        unasked.append(f"{', '.join(late)} (out of time: {within:.0f} s)")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    for name, data in sorted(answers):
        version = packages[name]
        if isinstance(data, str):
            unasked.append(f"{name} ({data})")
            continue
        files = data.get("releases", {}).get(version, [])
        if files and all(f.get("yanked") for f in files):
            ident = f"YANKED:{name}=={version}"
            if not _accepted({ident}, name, accepted):
                why = files[0].get("yanked_reason") or "no reason given"
                found.append(f"{name} {version}: yanked on PyPI ({why}) [{ident}]")
        for vuln in data.get("vulnerabilities") or []:
            ids = {vuln.get("id", ""), *(vuln.get("aliases") or [])}
            if (
                vuln.get("withdrawn")
                or _accepted(ids, name, accepted)
                or version in vuln.get("fixed_in", [])
            ):
                continue
            found.append(f"{name} {version}: {vuln.get('id')} (PyPI, latest release)")
    read = sum(isinstance(data, dict) for _, data in answers)
    print(f"PyPI project JSON: {read} of {len(packages)} packages read")
    if unasked:
        print("not read (reported, not failed): " + "; ".join(unasked))
    if unread_into is not None:
        unread_into.extend(sorted(set(packages) - {n for n, d in answers if isinstance(d, dict)}))
    if found:
        print("\n".join(found))
        print(
            "\nAUDIT FAILED (PyPI): above. Upgrade, or accept the id in"
            f" .ci/{ACCEPTED.name} with a reason and an accepted_until date.",
            file=sys.stderr,
        )
        return 1
    print("PyPI: no installed version yanked, no advisory on a latest release")
    return 0


# --- CI: everything above that answers, within a time budget (--ci) -------------------------

LOCK_FILES = (ROOT / "package-lock.json", ROOT / "js-build" / "package-lock.json")


class Budget:
    """The whole audit's seconds: each step gets what is left, less what the offline steps
    after it need, and one out of time is a warning (what it would have read is then
    read from the snapshot, or, for npm, not read: said so)."""

    RESERVE = 4.0  # the snapshot and the summary: offline, well under a second here

    def __init__(self, seconds: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + seconds

    def __str__(self) -> str:
        return f"({time.monotonic() - self.started:.1f} s)"

    def left(self, cap: float) -> float:
        return max(0.0, min(cap, self.deadline - time.monotonic() - self.RESERVE))


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.warnings: list[str] = []

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        print(f"WARNING: {text}")

    def fail(self, text: str) -> None:
        self.failures.append(text)
        print(f"FAILED: {text}")


def pip_audit(
    packages: dict[str, str] | None, accepted: dict[str, str], seconds: float, report: Report
) -> set[str]:
    """pip-audit against PyPI's per-version JSON: the installed set (`packages` None) or the
    given pins. Its findings, unless accepted, fail; returns the names it could read."""
    if seconds <= 1:
        report.warn("pip-audit: out of time before it started")
        return set()
    command = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off"]
    command += ["--vulnerability-service", "pypi", "--format", "json"]
    pins = None
    if packages is None:
        command.append("--skip-editable")  # Twelp itself, installed with -e: not on PyPI
    else:
        pins = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)  # noqa: SIM115
        pins.write("".join(f"{n}=={v}\n" for n, v in sorted(packages.items())))
        pins.close()
        command += ["--requirement", pins.name, "--no-deps", "--disable-pip"]
    try:
        # Safe: our own interpreter and pip-audit, an argument list, no shell.
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=seconds
        )
    except subprocess.TimeoutExpired:
        report.warn(f"pip-audit: out of time ({seconds:.0f} s)")
        return set()
    finally:
        if pins is not None:
            Path(pins.name).unlink()
    try:
        dependencies = json.loads(done.stdout)["dependencies"]
    except (ValueError, KeyError):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        report.warn(f"pip-audit could not ask PyPI (exit {done.returncode}): {last[:300]}")
        return set()
    read, skipped = set(), []
    for dependency in dependencies:
        name = _name(dependency["name"])
        if "skip_reason" in dependency:
            skipped.append(dependency["skip_reason"])
            continue
        read.add(name)
        for vuln in dependency.get("vulns", []):
            ids = {vuln["id"], *vuln.get("aliases", [])}
            if _accepted(ids, name, accepted):
                print(f"accepted: {name} {dependency.get('version')}: {vuln['id']}")
                continue
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version"
            report.fail(f"{name} {dependency.get('version')}: {vuln['id']} (fixed in {fixed})")
    print(f"pip-audit: {len(read)} of {len(dependencies)} packages read from PyPI")
    if skipped:
        report.warn(f"pip-audit could not read {len(skipped)} packages, e.g. {skipped[0]}")
    return read


def npm_audit(lock_file: Path, accepted: dict[str, str], seconds: float, report: Report) -> None:
    """`npm audit` of one lock file (nothing installed): each advisory, unless accepted (by
    its GHSA id, for that package), fails; a registry that does not answer is a warning."""
    where = lock_file.relative_to(ROOT) if lock_file.is_relative_to(ROOT) else lock_file
    if seconds <= 1:
        report.warn(f"npm audit of {where}: out of time before it started")
        return
    command = ["npm", "audit", "--package-lock-only", "--json", "--audit-level=low"]
    try:
        # Safe: npm with an argument list, no shell, in our own folder.
        done = subprocess.run(  # noqa: S603
            command, cwd=lock_file.parent, capture_output=True, text=True, timeout=seconds
        )
    except FileNotFoundError:
        report.warn(f"npm audit of {where}: npm is not installed")
        return
    except subprocess.TimeoutExpired:
        report.warn(f"npm audit of {where}: out of time ({seconds:.0f} s)")
        return
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        answer = {}
    if "vulnerabilities" not in answer:
        said = answer.get("message") or (done.stderr.strip().splitlines() or ["no answer"])[-1]
        report.warn(f"npm audit of {where}: the registry did not answer: {said[:300]}")
        return
    locked = json.loads(lock_file.read_text()).get("packages", {})
    count = 0
    for name, vulnerability in sorted(answer["vulnerabilities"].items()):
        for via in vulnerability.get("via", []):
            if not isinstance(via, dict):  # the name of a dependency that has the advisory
                continue
            count += 1
            ghsa = str(via.get("url", "")).rstrip("/").rsplit("/", 1)[-1] or str(via["source"])
            version = locked.get(f"node_modules/{name}", {}).get("version", "?")
            said = f"{name} {version} ({via.get('range')}): {ghsa} {via.get('title', '')}"
            if _accepted({ghsa, str(via.get("source"))}, name, accepted):
                print(f"accepted: {said}")
            else:
                report.fail(f"{where}: {said}")
    print(f"npm audit of {where}: {count} advisories")


def ci(
    budget: float,
    packages: dict[str, str] | None,
    accepted_file: Path,
    lock_files: list[Path],
    snapshot: Path = SNAPSHOT,
) -> int:
    """CI's audit (README, Run the tests): pip-audit where PyPI's per-version JSON answers,
    the snapshot for every package it could not read, PyPI's project JSON, npm audit of
    each lock file; within `budget` seconds. Fails on a known, unaccepted vulnerability
    and on an expired acceptance; what could not be asked is a warning."""
    clock, report = Budget(budget), Report()
    accepted, expired = load_accepted(datetime.datetime.now(datetime.UTC).date(), accepted_file)
    for entry in expired:
        report.fail(f"{accepted_file.name}: an acceptance is past its date: {entry}")
    pins = packages if packages is not None else installed()

    print(f"\n-- Python: pip-audit (PyPI's per-version JSON) {clock}")
    read = pip_audit(packages, accepted, clock.left(30), report)
    unread = {n: v for n, v in pins.items() if n not in read}
    if unread:
        print(
            f"\n-- Python: the snapshot, for the {len(unread)} packages pip-audit did not"
            f" read {clock}"
        )
        report.warn(
            f"{len(unread)} of {len(pins)} packages audited against the snapshot"
            f" ({snapshot.name}) instead of PyPI's live data"
        )
        found: list[str] = []
        if audit_snapshot(snapshot, unread, accepted, None, found):
            for finding in found or ["packages the snapshot does not cover (above)"]:
                report.fail(f"snapshot: {finding}")

    for lock_file in lock_files:
        print(f"\n-- JavaScript: npm audit of {lock_file.name} in {lock_file.parent.name}/ {clock}")
        npm_audit(lock_file, accepted, clock.left(10), report)

    # Last: it adds to the above (yanked releases) and takes whatever time is left.
    print(
        f"\n-- Python: PyPI's project JSON (yanked versions, latest releases' advisories) {clock}"
    )
    seconds = clock.left(30)
    if seconds <= 1:
        report.warn("PyPI project JSON: out of time before it started")
    else:
        not_read: list[str] = []
        if pypi(pins, accepted, timeout=min(5.0, seconds), within=seconds, unread_into=not_read):
            report.fail("PyPI's project JSON (above)")
        if not_read:
            report.warn(f"PyPI project JSON: {len(not_read)} of {len(pins)} projects not read")

    print(f"\n-- {len(report.warnings)} warnings, {len(report.failures)} failures {clock}")
    for failure in report.failures:
        print(f"   {failure}")
    if report.failures:
        print(
            "AUDIT FAILED: a known vulnerability (or an expired acceptance) above. Upgrade the"
            f" package, or accept the advisory in .ci/{ACCEPTED.name} (README, Run the tests).",
            file=sys.stderr,
        )
        return 1
    print("audit passed: no known vulnerability that is not accepted")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="CI's dependency audit (module docstring).")
    parser.add_argument("--ci", action="store_true", help="CI's audit: every source, a budget")
    parser.add_argument("--budget", type=float, default=50.0, help="seconds for --ci [50]")
    parser.add_argument("--accepted", type=Path, default=ACCEPTED, help=argparse.SUPPRESS)
    parser.add_argument("--lock-files", type=Path, nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--offline", type=Path, help="a copy of pypa/advisory-database")
    parser.add_argument(
        "--snapshot",
        type=Path,
        nargs="?",
        const=SNAPSHOT,
        help=f"the committed snapshot (default .ci/{SNAPSHOT.name})",
    )
    parser.add_argument(
        "--refresh-snapshot",
        type=Path,
        metavar="DB",
        help=f"write .ci/{SNAPSHOT.name} from a copy of pypa/advisory-database",
    )
    parser.add_argument("--pypi", action="store_true", help="PyPI's project JSON (yanked)")
    parser.add_argument("--max-age-days", type=int)
    parser.add_argument("--packages", nargs="+", help="name==version instead of the installed")
    args = parser.parse_args()
    given = None
    if args.packages:
        given = {_name(n): v for n, _, v in (p.partition("==") for p in args.packages)}
    if args.ci:
        lock_files = [f for f in LOCK_FILES if f.exists()]
        if args.lock_files is not None:
            lock_files = args.lock_files
        return ci(args.budget, given, args.accepted, lock_files, args.snapshot or SNAPSHOT)
    packages = given if given is not None else installed()
    today = datetime.datetime.now(datetime.UTC).date()
    if args.refresh_snapshot is not None:
        refresh_snapshot(args.refresh_snapshot, packages, args.snapshot or SNAPSHOT)
        return 0
    if args.offline is not None:
        return offline(args.offline, packages, accepted_ids(today), args.max_age_days)
    if args.snapshot is None and not args.pypi:
        parser.error("say what to audit: --ci (what CI runs), --snapshot, --pypi or --offline")
    status = 0
    if args.snapshot is not None:
        status |= audit_snapshot(args.snapshot, packages, accepted_ids(today), args.max_age_days)
    if args.pypi:
        status |= pypi(packages, accepted_ids(today))
    return status


if __name__ == "__main__":
    sys.exit(main())
