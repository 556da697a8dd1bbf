"""Prepared ORM fetches: a query the ORM builds once per process, run on every request.

Django compiles a QuerySet to SQL each time it runs: for a `select_related` over three
or four tables that is most of the fetch's CPU (~3 ms of the employee's fetch, against
0.35 ms for executing the same SQL: `python -m bench.requests`). Two such fetches run on
nearly every request: the employee behind the session (agents.backends) and the
permission-checked thread (inbox.queries.access_thread).

`Prepared` builds its QuerySet once, with marker values where the arguments go, and keeps
the SQL the ORM wrote for it, where each marker sits among the parameters, and Django's
own recipe for turning a row into model instances (the compiler's select and klass_info,
its related populators and field converters: what ModelIterable does for every
QuerySet). A call substitutes its arguments for the markers, executes, and builds the
instances. The SQL is the ORM's own, so it follows the models; nothing is hand-written.
Only equality filters on marker values belong here, for one row at most.

`together(...)` runs several such reads (and raw statements) in one round trip: their SQL
joined into one execute on the ORM's client-side-binding cursor, each read's rows taken
from its own result set (`nextset`). The supervisors' dashboard reads its ~15 figures so.
`together(..., prepare=True)` sends them instead in one psycopg pipeline, each on a
server-binding cursor, where DATABASES' prepare_threshold is set (settings.
DB_PREPARED_STATEMENTS): still one round trip, and psycopg prepares a statement run that
often, so PostgreSQL plans it once per connection. For reads whose planning costs more than
their execution: the queue's first page (issue 14, h14c, at 10k threads: its rows' heads
plan in ~0.9 ms and run in ~0.5; the batch 3.25 -> 1.81 ms median). Not the dashboard's:
its reads plan in ~0.1-0.4 ms each, and the generic plan PostgreSQL settles on for one of
them (failed replies) runs slower than planning it anew saves (5.77 -> 6.06 ms).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import psycopg
from django.db import connections
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from psycopg import ClientCursor
from psycopg.pq import TransactionStatus

M = TypeVar("M", bound=Model)

# Marker arguments: integers no id of ours takes, each found once among the parameters.
MARKERS = (-734_000_001, -734_000_002, -734_000_003)  # within int4
# PreparedRows' datetime arguments: instants no row of ours holds (psycopg gets them as given).
TIME_MARKERS = tuple(datetime(1901, 1, 1, 0, 0, n, tzinfo=UTC) for n in (1, 2, 3))
# Prepared's UUID arguments (after the integers): values uuid4 never makes (version 0).
UUID_MARKERS = tuple(UUID(int=n) for n in (734_000_001, 734_000_002))


@dataclass(frozen=True)
class _Recipe:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[int, ...]  # where each argument goes in params
    db: str
    model: type[Model]
    start: int
    end: int
    init_list: list[str]
    populators: list[Any]
    annotations: dict[str, int]
    converters: dict[int, tuple[list[Callable[..., Any]], Any]]


class Prepared(Generic[M]):
    """`Prepared(lambda a, b: Model.objects.select_related(...).filter(x=a, y=b))`, then
    `.first(a, b)`: the instance (with its related objects and annotations), or None.
    `uuids`: that many UUID arguments after the `arity` integers (a UUIDField's equality:
    `Prepared(lambda token: Reply.objects.filter(client_token=token), arity=0, uuids=1)`)."""

    def __init__(self, build: Callable[..., QuerySet[M]], arity: int = 1, *, uuids: int = 0):
        if not 0 <= arity <= len(MARKERS) or not 0 <= uuids <= len(UUID_MARKERS):
            raise ValueError(f"arity must be 0 to {len(MARKERS)}, uuids 0 to {len(UUID_MARKERS)}")
        if arity + uuids == 0:
            raise ValueError("a prepared fetch takes at least one argument")
        self._build, self._arity, self._uuids = build, arity, uuids
        self._first: _Recipe | None = None  # the QuerySet sliced to one row
        self._many: _Recipe | None = None  # the QuerySet as built

    def first(self, *args: Any) -> M | None:
        rows = self._run(args, one=True)
        return rows[0] if rows else None

    def all(self, *args: Any) -> list[M]:
        """Every row the QuerySet selects (its own ordering and slice), as instances."""
        return self._run(args, one=False)

    def bound_all(self, *args: Any) -> Bound:
        """`.all(*args)` as a read for `together`."""
        return self._bound(args, one=False)

    def bound_first(self, *args: Any) -> Bound:
        """`.first(*args)` as a read for `together`."""
        return self._bound(args, one=True).then(lambda found: found[0] if found else None)

    def _run(self, args: tuple[Any, ...], *, one: bool) -> list[M]:
        return _run_one(self._bound(args, one=one))

    def _bound(self, args: tuple[Any, ...], *, one: bool) -> Bound:
        if len(args) != self._arity + self._uuids:
            raise TypeError(f"{self._arity + self._uuids} argument(s) expected, {len(args)} given")
        recipe = (self._first if one else self._many) or self._prepare(one=one)
        params = list(recipe.params)
        for n, (slot, value) in enumerate(zip(recipe.slots, args, strict=True)):
            params[slot] = int(value) if n < self._arity else UUID(str(value))
        connection = connections[recipe.db]
        return Bound(
            recipe.sql,
            params,
            recipe.db,
            lambda rows: [_instance(recipe, row, connection) for row in rows],
        )

    def _prepare(self, *, one: bool) -> _Recipe:
        markers = (*MARKERS[: self._arity], *UUID_MARKERS[: self._uuids])
        queryset = self._build(*markers)
        queryset = queryset[:1] if one else queryset
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()  # fills compiler.select, klass_info, annotations
        slots = []
        for marker in markers:
            kind = type(marker)
            found = [i for i, p in enumerate(params) if type(p) is kind and p == marker]
            if len(found) != 1:
                raise ValueError(f"argument marker {marker} appears {len(found)} times in {sql}")
            slots.append(found[0])
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        recipe = _Recipe(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            db=queryset.db,
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=[f[0].target.attname for f in select[start:end]],
            populators=get_related_populators(klass_info, select, queryset.db),
            annotations=dict(compiler.annotation_col_map),
            converters=compiler.get_converters([s[0] for s in select]),
        )
        if one:
            self._first = recipe
        else:
            self._many = recipe
        return recipe


def _instance(recipe: _Recipe, row: tuple[Any, ...], connection: Any) -> Any:
    """One row as ModelIterable makes it: converted, the model, its related objects, its
    annotations."""
    if recipe.converters:
        row = list(row)  # type: ignore[assignment]
        for position, (converters, expression) in recipe.converters.items():
            value = row[position]
            for convert in converters:
                value = convert(value, expression, connection)
            row[position] = value  # type: ignore[index]
    obj = recipe.model.from_db(recipe.db, recipe.init_list, row[recipe.start : recipe.end])
    for populator in recipe.populators:
        populator.populate(row, obj)
    for name, position in recipe.annotations.items():
        setattr(obj, name, row[position])
    return obj


class PreparedRows:
    """`PreparedRows(lambda a, t: <values_list / annotate / union QuerySet>, times=1)`, then
    `.rows(a, t)`: its rows as plain tuples, or `.count(a, t)`: how many rows it selects
    (`SELECT COUNT(*)` around the ORM's SQL). For reads whose ORM compile costs more than
    their execution (a CASE, a UNION) on a hot path: the SQL is the ORM's, written once.

    Arguments: `arity` integers (MARKERS), then `times` aware datetimes (TIME_MARKERS). A
    marker may appear several times among the parameters (the same value compared twice).
    No field converters run (plain columns and counts) unless `convert`: then each value
    is converted as the ORM converts it (an average to a float, a date, a decimal...).
    `names`: the columns' names (a values() QuerySet's fields, then its annotations), for
    `bound_dicts`."""

    def __init__(
        self,
        build: Callable[..., QuerySet[Any]],
        arity: int = 1,
        *,
        times: int = 0,
        convert: bool = False,
    ):
        if not 0 <= arity <= len(MARKERS) or not 0 <= times <= len(TIME_MARKERS):
            raise ValueError("too many arguments for the markers")
        self._build, self._arity, self._times, self._convert = build, arity, times, convert
        self._sql: tuple[str, tuple[Any, ...], tuple[tuple[int, ...], ...], str] | None = None
        self._converters: dict[int, tuple[list[Callable[..., Any]], Any]] = {}
        self._names: list[str] = []

    def rows(self, *args: Any) -> list[tuple[Any, ...]]:
        return _run_one(self.bound(*args))

    def bound(self, *args: Any) -> Bound:
        """`.rows(*args)` as a read for `together`."""
        sql, params, db = self._bind(args)
        converters = self._converters  # after _bind: it prepares them the first time
        if not converters:
            return Bound(sql, params, db, _as_list)
        connection = connections[db]
        return Bound(sql, params, db, lambda rows: _converted(rows, converters, connection))

    def bound_dicts(self, *args: Any) -> Bound:
        """The rows as {name: value} (a values() QuerySet's), as a read for `together`."""
        read = self.bound(*args)  # prepares it, names and all, the first time
        names = self._names
        return read.then(lambda rows: [dict(zip(names, row, strict=True)) for row in rows])

    def count(self, *args: Any) -> int:
        sql, params, db = self._bind(args)
        with connections[db].cursor() as cursor:
            # The ORM's own SQL around a constant: no value is put into the text.
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS counted", params)  # noqa: S608
            return cursor.fetchone()[0]

    def _bind(self, args: tuple[Any, ...]) -> tuple[str, list[Any], str]:
        if len(args) != self._arity + self._times:
            raise TypeError(f"{self._arity + self._times} argument(s) expected, {len(args)} given")
        sql, params, slots, db = self._sql or self._prepare()
        bound = list(params)
        for n, (positions, value) in enumerate(zip(slots, args, strict=True)):
            if n < self._arity:
                value = int(value)
            elif not isinstance(value, datetime) or value.tzinfo is None:
                raise TypeError("an aware datetime expected")
            for position in positions:  # as the ORM typed it there (psycopg's Int4, ...)
                bound[position] = type(params[position])(value) if n < self._arity else value
        return sql, bound, db

    def _prepare(self) -> tuple[str, tuple[Any, ...], tuple[tuple[int, ...], ...], str]:
        markers = (*MARKERS[: self._arity], *TIME_MARKERS[: self._times])
        queryset = self._build(*markers)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        if self._convert:
            self._converters = compiler.get_converters([s[0] for s in compiler.select])
        query = queryset.query
        self._names = [*query.extra_select, *query.values_select, *query.annotation_select]
        slots = []
        for marker in markers:
            kind = type(marker)  # an int, or a subclass of it (Int4 in a CASE)
            found = tuple(i for i, p in enumerate(params) if isinstance(p, kind) and p == marker)
            if not found:
                raise ValueError(f"argument marker {marker} is not among the parameters of {sql}")
            slots.append(found)
        self._sql = (sql, tuple(params), tuple(slots), queryset.db)
        return self._sql


@dataclass(frozen=True)
class Bound:
    """One read with its arguments bound: its SQL and parameters (%s placeholders), and
    what makes its result out of its rows."""

    sql: str
    params: list[Any]
    db: str
    finish: Callable[[list[tuple[Any, ...]]], Any]

    def then(self, make: Callable[[Any], Any]) -> Bound:
        """The same read, its result passed through `make`."""
        finish = self.finish
        return Bound(self.sql, self.params, self.db, lambda rows: make(finish(rows)))


def _as_list(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return rows


def _converted(
    rows: list[tuple[Any, ...]],
    converters: dict[int, tuple[list[Callable[..., Any]], Any]],
    connection: Any,
) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        values = list(row)
        for position, (convert_all, expression) in converters.items():
            value = values[position]
            for convert in convert_all:
                value = convert(value, expression, connection)
            values[position] = value
        out.append(tuple(values))
    return out


def _run_one(read: Bound) -> Any:
    with connections[read.db].cursor() as cursor:
        cursor.execute(read.sql, read.params)
        return read.finish(cursor.fetchall())


def together(*reads: Bound, prepare: bool = False) -> list[Any]:
    """Each read's result, in order, from one round trip: the statements joined into one
    execute (the ORM's cursors bind parameters client-side, which allows several
    statements and their parameters in one; each statement's rows are its own result set).
    They run in the caller's transaction, or each in its own (autocommit): the same as
    one after the other. A server-side-binding cursor, which allows one statement per
    execute, runs them one after the other. `prepare`: in one pipeline of statements
    prepared once run often (module docstring), where the connection prepares."""
    if not reads:
        return []
    db = reads[0].db
    if any(read.db != db for read in reads):
        raise ValueError("reads of one database only")
    connection = connections[db]
    with connection.cursor() as cursor:
        if not isinstance(cursor.cursor, ClientCursor) or len(reads) == 1:
            return [_run_one(read) for read in reads]
        joined = ";\n".join(read.sql for read in reads)
        params = [p for read in reads for p in read.params]
        if prepare and _prepares(connection):
            # One execute as Django sees it (its execute wrappers, its query log).
            logged = isinstance(cursor, CursorDebugWrapper)
            with cursor.debug_sql(joined, params) if logged else contextlib.nullcontext():
                return cursor._execute_with_wrappers(
                    joined, params, False, lambda *_: _pipelined(connection, reads)
                )
        cursor.execute(joined, params)
        out = []
        for n, read in enumerate(reads):
            if n and not cursor.nextset():
                raise RuntimeError(f"{len(reads)} results expected, {n} came")
            out.append(read.finish(cursor.fetchall()))
        return out


def _prepares(connection: Any) -> bool:
    """Whether the connection prepares statements run often (DATABASES' prepare_threshold)
    and can pipeline them (libpq 14 or later)."""
    pg = connection.connection
    return pg.prepare_threshold is not None and psycopg.Pipeline.is_supported()


def _pipelined(connection: Any, reads: tuple[Bound, ...]) -> list[Any]:
    """`together`'s reads in one pipeline, each on a server-binding cursor (prepared once
    run prepare_threshold times). In autocommit the statements before the pipeline's Sync
    run in one implicit transaction, as the joined execute's do; one that fails is raised
    as Django's error and, outside the caller's transaction, rolled back."""
    pg = connection.connection
    in_atomic = connection.in_atomic_block
    cursors = [psycopg.Cursor(pg) for _ in reads]
    try:
        with connection.wrap_database_errors:
            try:
                with pg.pipeline():
                    for cursor, read in zip(cursors, reads, strict=True):
                        cursor.execute(read.sql, read.params)
            except BaseException:
                if not in_atomic and pg.info.transaction_status != TransactionStatus.IDLE:
                    with contextlib.suppress(psycopg.Error):
                        pg.execute("ROLLBACK")
                raise
            return [read.finish(c.fetchall()) for c, read in zip(cursors, reads, strict=True)]
    finally:
        for cursor in cursors:
            cursor.close()
