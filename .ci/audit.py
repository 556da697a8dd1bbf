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
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import tomllib
from pathlib import Path

ACCEPTED = Path(__file__).with_name("audit-accepted.toml")


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


def main() -> int:
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
