"""Seeding through the models, so the schema lives in inbox/models.py alone.

Every seeded row is filled from its model's fields as `Model(**row)` fills an instance:
a field the seed does not set gets the model's default, and a NOT NULL field without a
default fails here as it would in the app. No benchmark names a table's columns. (Before, raw-SQL
seeders listed them, and a NOT NULL column added to Customer broke three benchmarks:
commits 58c1e82 and 45da553, migration inbox 0012.)

- The few rows of a world (brand, sources, agents, a customer): `objects.create`.
- The millions of bench.queue, bench.dashboard and bench.compare: `copy`, PostgreSQL's
  COPY. Its column list is the model's `_meta.concrete_fields`; each row is a dict of
  the fields the seed sets, the rest filled with the fields' defaults, and each value is
  what the field itself prepares for an INSERT (`get_db_prep_save`). `auto_now` /
  `auto_now_add` fields left out get the time of the load, fields given a value keep it
  (bulk_create would overwrite a seeded `created_at` with now). Triggers run on COPY as
  on INSERT (the queue counts, the channel checks). Why COPY of dicts and not
  bulk_create of instances: bulk_create spends its time adapting UNNEST arrays in
  psycopg (BENCHMARKS.md, problem 1; on 10,000 messages with a tweet's `raw`, 90 µs a
  row against 31 µs for COPY, every index and trigger on), and a model instance costs
  ~34 µs to build (`Model.__init__`, a third of the CPU of the queue's seeding).
- A set-based insert that is itself measured (bench.channel_triggers): `insert_select`
  builds its column list and defaults from the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.models import Model


def copy(model: type[Model], rows: Iterable[dict], *, with_pk: bool = False) -> int:
    """COPY `rows` into `model`'s table; returns how many.

    Each row is a dict of field attnames (`brand_id`, `status`, ...) to values; every
    concrete field it leaves out is filled as `model(**row)` would fill it: its default
    (called per row when callable, e.g. a uuid4), '' or None when it has none; the
    time of the load for `auto_now` / `auto_now_add`. A name the model does not have is
    an error. `with_pk`: the rows carry their ids (so other rows of the load can point
    at them); call `reset_sequence(model)` after the load.
    """
    from django.db import connection
    from django.utils import timezone

    fields = [
        f
        for f in model._meta.concrete_fields
        if (with_pk or not f.primary_key) and not f.generated  # PostgreSQL computes those
    ]
    known = {f.attname for f in fields}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    now = timezone.now()
    plan = [(f.attname, _preparer(f), *_default(f, now, connection)) for f in fields]
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.connection  # psycopg's own connection, in Django's transaction
        with raw.cursor().copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as out:
            for row in rows:
                if not known.issuperset(row):
                    raise ValueError(f"{model.__name__} has no field {sorted(set(row) - known)}")
                values = []
                for attname, prepare, make, fixed in plan:
                    value = row.get(attname, _MISSING)
                    if value is _MISSING:
                        if make is None:
                            values.append(fixed)
                            continue
                        value = make()
                    values.append(value if prepare is None else prepare(value, connection))
                out.write_row(values)
                count += 1
    return count


_MISSING = object()


def _default(field, now, connection) -> tuple:
    """(a callable making the field's value for a row that leaves it out, or None; else
    the value, prepared once)."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return None, now
    if field.has_default() and callable(field.default):
        return field.default, None
    return None, field.get_db_prep_save(field.get_default(), connection)


def _preparer(field):
    """The field's `get_db_prep_save`, or None where it hands psycopg the value as it is
    (numbers, text, booleans, aware datetimes, UUIDs, durations, foreign keys on
    PostgreSQL, and arrays of those): calling it for every one of ~20 fields cost 35 µs a
    row, most of a row's time, and an array prepares each element (the dashboard's rollup
    rows, two 65-bucket histograms each: 280 µs a row). JSON and any other field are
    prepared by the field."""
    from django.contrib.postgres.fields import ArrayField
    from django.db import models

    plain = (
        models.IntegerField,
        models.CharField,
        models.TextField,
        models.BooleanField,
        models.FloatField,
        models.DateTimeField,
        models.UUIDField,
        models.DurationField,
        models.ForeignKey,
    )
    if isinstance(field, ArrayField) and _preparer(field.base_field) is None:
        return None
    return None if isinstance(field, plain) else field.get_db_prep_save


def insert_select(model: type[Model], values: dict[str, str], rest: str) -> tuple[str, dict]:
    """(`INSERT INTO <table> (<every concrete field but the id>) SELECT <values> <rest>`,
    its parameters), for a set-based insert that is itself what is measured
    (bench.channel_triggers).

    `values` maps field names to SQL expressions. Every other field gets what a new
    instance of the model would hold, as the field prepares it (a parameter
    `_default_<name>`): its default ('' for text); `now()` for auto_now(_add); NULL where
    it may be null. A field with none of these, or a unique one (one value for every
    row), must be given.
    """
    from django.db import connection

    quote = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]
    unknown = set(values) - {f.name for f in fields} - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no field {sorted(unknown)}")
    columns, exprs, params = [], [], {}
    for f in fields:
        columns.append(quote(f.column))
        given = values.get(f.name, values.get(f.attname))
        default = None if given is not None else f.get_default()
        if given is not None:
            exprs.append(given)
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            exprs.append("now()")
        elif default is None and f.null:
            exprs.append("NULL")
        elif default is None or f.unique:
            raise ValueError(f"{model.__name__}.{f.name}: give a value for every row")
        else:
            params[f"_default_{f.attname}"] = f.get_db_prep_save(default, connection)
            exprs.append(f"%(_default_{f.attname})s")
    table = quote(model._meta.db_table)
    return f"INSERT INTO {table} ({', '.join(columns)})\nSELECT {', '.join(exprs)}\n{rest}", params


def reset_sequence(*models: type[Model]) -> None:
    """Move each model's id sequence past the ids a `copy(..., with_pk=True)` gave."""
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(statement)
