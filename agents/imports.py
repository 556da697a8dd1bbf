"""Employees from a CSV file: every row checked (format, duplicates in the file and in
Twelp, the handle with X) before anything is written; then all rows, or none.

The file has a header row with employee_id, name, email, x_handle, initials and,
optionally, role (agent, supervisor or admin; agent when empty).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from agents.actions import NewEmployee
from agents.forms import AddEmployeeForm
from agents.models import Role
from agents.queries import find_duplicates
from agents.xhandles import XUnavailable, look_up
from inbox.models import Brand

REQUIRED = ("employee_id", "name", "email", "x_handle", "initials")
OPTIONAL = ("role",)
MAX_ROWS = 1000


@dataclass
class Row:
    line: int  # in the file, the header being line 1
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    employee: NewEmployee | None = None


@dataclass
class Preview:
    rows: list[Row]
    problems: list[str]  # about the whole file

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.problems and not any(r.errors for r in self.rows)

    @property
    def employees(self) -> list[NewEmployee]:
        return [row.employee for row in self.rows if row.employee is not None]


def preview(brand: Brand, text: str) -> Preview:
    """Parse and check every row; nothing is written. Calls X: outside a transaction."""
    rows, problems = _parse(text)
    if problems:
        return Preview(rows, problems)
    forms = {row.line: _check_fields(brand, row) for row in rows}
    _check_repeats(rows)
    for row in rows:
        if not row.errors:
            _check_duplicates(brand, row, forms[row.line])
    _check_handles(brand, rows, forms)
    return Preview(rows, problems)


def _parse(text: str) -> tuple[list[Row], list[str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        return [], [f"The header row lacks: {', '.join(missing)}."]
    unknown = [name for name in header if name not in REQUIRED + OPTIONAL]
    if unknown:
        return [], [f"Unknown columns: {', '.join(unknown)}."]
    reader.fieldnames = header
    rows = []
    try:
        for record in reader:
            values = {k: (v or "").strip() for k, v in record.items() if k is not None}
            if not any(values.values()):
                continue  # a blank line
            row = Row(reader.line_num, values)
            if None in record:
                row.errors.append("This row has more values than the header has columns.")
            rows.append(row)
            if len(rows) > MAX_ROWS:
                return [], [f"At most {MAX_ROWS} employees per file; split it."]
    except csv.Error as error:
        return [], [f"Line {reader.line_num} is not valid CSV: {error}."]
    if not rows:
        return [], ["The file has no employees in it."]
    return rows, []


def _check_fields(brand: Brand, row: Row) -> AddEmployeeForm:
    data = {**row.values, "role": row.values.get("role", "").lower() or Role.AGENT}
    form = AddEmployeeForm(data, brand=brand)
    if not form.is_valid():
        for name, messages in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            row.errors += [f"{label}: {message}" if label else message for message in messages]
    return form


def _check_repeats(rows: list[Row]) -> None:
    """The same employee id, e-mail or handle twice in one file: both rows are wrong."""
    for column in ("employee_id", "email", "x_handle"):
        first_seen: dict[str, int] = {}
        for row in rows:
            value = row.values.get(column, "").lower().removeprefix("@")
            if not value:
                continue
            if value in first_seen:
                row.errors.append(f"{column} {value} is also on line {first_seen[value]}.")
            else:
                first_seen[value] = row.line


def _check_duplicates(brand: Brand, row: Row, form: AddEmployeeForm) -> None:
    data = form.cleaned_data
    errors = find_duplicates(
        brand, employee_id=data["employee_id"], email=data["email"], x_handle=data["x_handle"]
    )
    row.errors += errors.values()


def _check_handles(brand: Brand, rows: list[Row], forms: dict[int, AddEmployeeForm]) -> None:
    unavailable = ""
    for row in rows:
        if row.errors:
            continue
        if unavailable:
            row.errors.append(f"Not checked with X: {unavailable}")
            continue
        data = forms[row.line].cleaned_data
        try:
            account = look_up(data["x_handle"], brand)
        except XUnavailable as error:
            unavailable = str(error)
            row.errors.append(f"Not checked with X: {unavailable}")
            continue
        if account is None:
            row.errors.append(f"X has no user @{data['x_handle']}.")
            continue
        row.employee = NewEmployee(
            employee_id=data["employee_id"],
            name=data["name"],
            email=data["email"],
            x_handle=account.username,
            x_user_id=account.id,
            initials=data["initials"],
            role=data["role"],
        )
