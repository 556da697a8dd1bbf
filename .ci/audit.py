"""CI's dependency audit: pip-audit over the installed set (the fresh virtualenv that
.ci/run builds from pyproject.toml), against PyPI's vulnerability data (pip-audit's PyPI
service: no network but PyPI).

1. Exit 0 only when PyPI answered for every installed package and none has a known
   vulnerability that is not accepted in .ci/audit-accepted.toml.
2. A package PyPI cannot be asked about makes the audit fail (`--strict`): without it,
   pip-audit only warns and passes, so an unreachable database would pass silently.
3. An acceptance names the advisory's id (as pip-audit prints it), the package, why it
   does not reach Twelp, and a review date; past that date it is void and the audit fails
   until someone looks again.

    python .ci/audit.py            # from the repository root, with the virtualenv's python

Offline (`--offline DB`): where PyPI's per-version JSON cannot be read (this workplace:
https://pypi.org/pypi/<name>/<version>/json answers 404, api.osv.dev is unreachable), the
installed set is matched here against a copy of PyPA's advisory database
(github.com/pypa/advisory-database: the PYSEC advisories PyPI itself serves, in OSV
format), given as a checkout or a bare git directory. It is as current as that copy and
no more: the copy's commit and date are printed first, and `--max-age-days` fails the
audit when it is older. `--packages name==version ...` audits that set instead of the
installed one (to show a vulnerable pin failing). Acceptances work the same (an id or any
of its aliases).

    python .ci/audit.py --offline /path/to/advisory-database [--max-age-days 30]

JavaScript: the only npm packages are the build tools of the vendored bundle
(js-build/package.json, its package-lock.json); `--npm` runs `npm audit` on that
lock file. It needs the registry's advisory endpoint (POST /-/npm/v1/security/advisories/
bulk), which answers 405 in this workplace: there the npm audit fails, never passes.
"""

from __future__ import annotations

import argparse
import datetime
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path

ACCEPTED = Path(__file__).with_name("audit-accepted.toml")
VENDOR = Path(__file__).resolve().parent.parent / "js-build"


def accepted_ids(today: datetime.date) -> list[str]:
    entries = tomllib.loads(ACCEPTED.read_text()).get("accept", [])
    ids, expired = [], []
    for entry in entries:
        missing = {"id", "package", "reason", "review_by"} - set(entry)
        if missing:
            sys.exit(f"{ACCEPTED.name}: an entry lacks {sorted(missing)}: {entry}")
        if entry["review_by"] < today:
            expired.append(f"{entry['id']} ({entry['package']}, review by {entry['review_by']})")
        ids.append(entry["id"])
    if expired:
        sys.exit(f"{ACCEPTED.name}: acceptances past their review date: {', '.join(expired)}")
    return ids


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


def offline(db: Path, packages: dict[str, str], accepted: list[str], max_age: int | None) -> int:
    import yaml

    folder, stamp = _advisories(db)
    print(f"advisory database: {db} ({stamp or 'not a git copy: date unknown'})")
    if max_age is not None:
        when = datetime.datetime.fromisoformat(stamp.split()[1]) if stamp else None
        now = datetime.datetime.now(datetime.UTC)
        if when is None or (now - when).days > max_age:
            print(
                f"AUDIT FAILED: the advisory database is older than {max_age} days.",
                file=sys.stderr,
            )
            return 1
    by_name: dict[str, list[Path]] = {}
    for folder_of_one in (folder / "vulns").iterdir():
        if folder_of_one.is_dir():
            by_name.setdefault(_name(folder_of_one.name), []).extend(folder_of_one.glob("*.yaml"))
    found, checked = [], 0
    for name, version in sorted(packages.items()):
        for path in sorted(by_name.get(name, [])):
            advisory = yaml.safe_load(path.read_text())
            checked += 1
            if advisory.get("withdrawn"):
                continue
            ids = {advisory["id"], *advisory.get("aliases", [])}
            for entry in advisory.get("affected", []):
                package = entry.get("package", {})
                if package.get("ecosystem") != "PyPI" or _name(package.get("name", "")) != name:
                    continue
                if _affects(entry, version) and not ids & set(accepted):
                    also = ", ".join(sorted(ids - {advisory["id"]}))
                    found.append(f"{name} {version}: {advisory['id']} ({also})")
                    break
    print(f"{len(packages)} packages, {checked} advisories of theirs read")
    if found:
        print("\n".join(found))
        print(
            "\nAUDIT FAILED: a known vulnerability above. Upgrade the package, or accept the"
            f" advisory in .ci/{ACCEPTED.name} with a reason and a review date.",
            file=sys.stderr,
        )
        return 1
    print("no known vulnerability in this database")
    return 0


def npm() -> int:
    """`npm audit` of the vendored bundle's build tools (their lock file, nothing installed)."""
    # Safe: npm with an argument list, no shell, in our own folder.
    done = subprocess.run(  # noqa: S603
        ["npm", "audit", "--package-lock-only", "--audit-level=low"],  # noqa: S607
        cwd=VENDOR,
        capture_output=True,
        text=True,
    )
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        print(
            "\nAUDIT FAILED (npm): a known vulnerability above, or the registry's advisory"
            " endpoint could not be asked (this is not a pass).",
            file=sys.stderr,
        )
    return done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description="CI's dependency audit (module docstring).")
    parser.add_argument("--offline", type=Path, help="a copy of pypa/advisory-database")
    parser.add_argument("--max-age-days", type=int)
    parser.add_argument("--packages", nargs="+", help="name==version instead of the installed")
    parser.add_argument("--npm", action="store_true", help="npm audit of js-build/")
    args = parser.parse_args()
    if args.npm:
        return npm()
    if args.offline is not None:
        packages = installed()
        if args.packages:
            packages = {_name(n): v for n, _, v in (p.partition("==") for p in args.packages)}
        today = datetime.datetime.now(datetime.UTC).date()
        return offline(args.offline, packages, accepted_ids(today), args.max_age_days)
    ignore = [
        arg
        for vuln in accepted_ids(datetime.datetime.now(datetime.UTC).date())
        for arg in ("--ignore-vuln", vuln)
    ]
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--strict",  # a package PyPI cannot be asked about fails the audit (docstring, 2)
        "--skip-editable",  # Twelp itself, installed with -e: not on PyPI
        "--progress-spinner",
        "off",
        "--vulnerability-service",
        "pypi",
        *ignore,
    ]
    # Safe: our own interpreter and pip-audit, an argument list, no shell.
    done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode == 0:
        return 0
    if "not found on PyPI and could not be audited" in done.stderr or "Connection" in done.stderr:
        print(
            "\nAUDIT FAILED: PyPI's vulnerability data could not be read for the package(s)"
            " above, so nothing is known about them. This is not a pass: fix the network"
            " (pip-audit asks https://pypi.org/pypi/<name>/<version>/json) and run again.",
            file=sys.stderr,
        )
    else:
        print(
            "\nAUDIT FAILED: a known vulnerability above. Upgrade the package, or accept the"
            f" advisory in .ci/{ACCEPTED.name} with a reason and a review date.",
            file=sys.stderr,
        )
    return 1


if __name__ == "__main__":
    sys.exit(main())
