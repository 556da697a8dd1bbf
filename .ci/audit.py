"""CI's dependency audit: the installed set (the fresh virtualenv that .ci/run builds from
pyproject.toml) against known vulnerabilities. README, Run the tests.

    python .ci/audit.py --snapshot --pypi     # what CI runs, every time, offline
    python .ci/audit.py --refresh-snapshot /path/to/advisory-database

1. `--snapshot`: against .ci/advisories.json, a dated snapshot of PyPA's advisory database
   (github.com/pypa/advisory-database, CC-BY-4.0, OSV format: the PYSEC advisories PyPI
   serves) holding the advisories of the packages we install, and the names of every
   package the database has advisories for: a package with advisories the snapshot does
   not carry (a new dependency) fails until the snapshot is refreshed. As current as the
   snapshot and no more: its commit and date are printed, a warning past STALE_DAYS,
   `--max-age-days` fails it. `--refresh-snapshot DB` writes it anew from a copy of the
   database (a checkout or a bare git directory) for the installed set.
2. `--pypi`: PyPI's project JSON (/pypi/<name>/json answers on these machines; the
   per-version JSON pip-audit reads answers 404): a yanked installed version fails
   (accepted as YANKED:name==version), and so does an advisory PyPI lists on a project's
   latest release that the installed version is not fixed in. That JSON has nothing on
   older versions, so it adds to the snapshot, never replaces it; a project PyPI does not
   answer for is reported, not failed.
3. Exit 0 only when nothing known and unaccepted is found. An acceptance in
   .ci/audit-accepted.toml names the advisory's id (or an alias), the package, why it
   does not reach Twelp, and a review date; past that date it is void and the audit fails
   until someone looks again.

Online, where PyPI's per-version JSON answers: `python .ci/audit.py` runs pip-audit
(`--strict`: a package PyPI cannot be asked about fails). `--offline DB` audits against
a whole copy of the database. `--packages name==version ...` audits that set instead of
the installed one (to show a vulnerable pin failing).

JavaScript: the only npm packages are the build tools of the vendored bundle
(js-build/package.json, its package-lock.json); `--npm` runs `npm audit` on that
lock file. It needs the registry's advisory endpoint (POST /-/npm/v1/security/advisories/
bulk), which answers 405 in this workplace: there the npm audit fails, never passes.
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
import tomllib
from importlib import metadata
from pathlib import Path

ACCEPTED = Path(__file__).with_name("audit-accepted.toml")
SNAPSHOT = Path(__file__).with_name("advisories.json")
STALE_DAYS = 90
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
    accepted: list[str],
    uncovered: set[str] = frozenset(),
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
                if _affects(entry, version) and not ids & set(accepted):
                    also = ", ".join(sorted(ids - {advisory["id"]}))
                    found.append(f"{name} {version}: {advisory['id']} ({also})")
                    break
    print(f"{len(packages)} packages, {checked} advisories of theirs read")
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
            f" advisory in .ci/{ACCEPTED.name} with a reason and a review date.",
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


def offline(db: Path, packages: dict[str, str], accepted: list[str], max_age: int | None) -> int:
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
    path: Path, packages: dict[str, str], accepted: list[str], max_age: int | None
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
    return _check(snapshot["advisories"], packages, accepted, uncovered)


# --- PyPI's project JSON (the one JSON of PyPI's these machines can read) -------------------


def pypi(packages: dict[str, str], accepted: list[str]) -> int:
    """Each installed version against its project's JSON on PyPI (/pypi/<name>/json, 200
    here; the per-version JSON answers 404): a yanked version fails (id YANKED:name==ver to
    accept it), and so does an advisory PyPI lists for the project's latest release that
    the installed version is not fixed in. A project PyPI does not answer for is reported,
    not failed (the snapshot is the gate; PyPI has no per-version data here)."""
    import concurrent.futures
    import urllib.error
    import urllib.request

    def ask(name: str) -> tuple[str, dict | str]:
        url = f"https://pypi.org/pypi/{name}/json"
        try:
            with urllib.request.urlopen(url, timeout=20) as answer:  # noqa: S310 (https, fixed host)
                return name, json.load(answer)
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            return name, str(error)

    found, unasked = [], []
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for name, data in pool.map(ask, sorted(packages)):
            version = packages[name]
            if isinstance(data, str):
                unasked.append(f"{name} ({data})")
                continue
            files = data.get("releases", {}).get(version, [])
            if files and all(f.get("yanked") for f in files):
                ident = f"YANKED:{name}=={version}"
                if ident not in accepted:
                    why = files[0].get("yanked_reason") or "no reason given"
                    found.append(f"{name} {version}: yanked on PyPI ({why}) [{ident}]")
            for vuln in data.get("vulnerabilities") or []:
                ids = {vuln.get("id", ""), *(vuln.get("aliases") or [])}
                if (
                    vuln.get("withdrawn")
                    or ids & set(accepted)
                    or version in vuln.get("fixed_in", [])
                ):
                    continue
                found.append(f"{name} {version}: {vuln.get('id')} (PyPI, latest release)")
    print(f"PyPI project JSON: {len(packages) - len(unasked)} of {len(packages)} packages read")
    if unasked:
        print("not read (reported, not failed): " + "; ".join(unasked))
    if found:
        print("\n".join(found))
        print(
            "\nAUDIT FAILED (PyPI): above. Upgrade, or accept the id in"
            f" .ci/{ACCEPTED.name} with a reason and a review date.",
            file=sys.stderr,
        )
        return 1
    print("PyPI: no installed version yanked, no advisory on a latest release")
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
    parser.add_argument(
        "--snapshot",
        type=Path,
        nargs="?",
        const=SNAPSHOT,
        help=f"the committed snapshot (default .ci/{SNAPSHOT.name}): CI's audit",
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
    parser.add_argument("--npm", action="store_true", help="npm audit of js-build/")
    args = parser.parse_args()
    if args.npm:
        return npm()
    packages = installed()
    if args.packages:
        packages = {_name(n): v for n, _, v in (p.partition("==") for p in args.packages)}
    today = datetime.datetime.now(datetime.UTC).date()
    if args.refresh_snapshot is not None:
        refresh_snapshot(args.refresh_snapshot, packages, args.snapshot or SNAPSHOT)
        return 0
    if args.snapshot is not None or args.pypi:
        status = 0
        if args.snapshot is not None:
            status |= audit_snapshot(
                args.snapshot, packages, accepted_ids(today), args.max_age_days
            )
        if args.pypi:
            status |= pypi(packages, accepted_ids(today))
        return status
    if args.offline is not None:
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
