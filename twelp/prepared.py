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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

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

    def _run(self, args: tuple[Any, ...], *, one: bool) -> list[M]:
        if len(args) != self._arity + self._uuids:
            raise TypeError(f"{self._arity + self._uuids} argument(s) expected, {len(args)} given")
        recipe = (self._first if one else self._many) or self._prepare(one=one)
        params = list(recipe.params)
        for n, (slot, value) in enumerate(zip(recipe.slots, args, strict=True)):
            params[slot] = int(value) if n < self._arity else UUID(str(value))
        connection = connections[recipe.db]
        with connection.cursor() as cursor:
            cursor.execute(recipe.sql, params)
            rows = cursor.fetchall()
        return [_instance(recipe, row, connection) for row in rows]

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
    No field converters run: plain columns and counts only."""

    def __init__(self, build: Callable[..., QuerySet[Any]], arity: int = 1, *, times: int = 0):
        if not 0 <= arity <= len(MARKERS) or not 0 <= times <= len(TIME_MARKERS):
            raise ValueError("too many arguments for the markers")
        self._build, self._arity, self._times = build, arity, times
        self._sql: tuple[str, tuple[Any, ...], tuple[tuple[int, ...], ...], str] | None = None

    def rows(self, *args: Any) -> list[tuple[Any, ...]]:
        sql, params, db = self._bind(args)
        with connections[db].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

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
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
        slots = []
        for marker in markers:
            kind = type(marker)  # an int, or a subclass of it (Int4 in a CASE)
            found = tuple(i for i, p in enumerate(params) if isinstance(p, kind) and p == marker)
            if not found:
                raise ValueError(f"argument marker {marker} is not among the parameters of {sql}")
            slots.append(found)
        self._sql = (sql, tuple(params), tuple(slots), queryset.db)
        return self._sql
