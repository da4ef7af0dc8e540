"""Reads compiled once per shape and run with each request's values.

Building and compiling a queryset was about half of a small API read's CPU (a one-row page:
five joined tables, a count, the walls' conditions): the ORM redoes it on every request for a
statement whose text never changes. A :class:`PreparedRead` calls its builder (ordinary ORM code,
the same the rest of the portal runs) once per *shape* with stand-in values, keeps the SQL, where
each value goes among its parameters and how its rows become model instances (select_related
included), and from then on runs that SQL with the real values.

The builder takes the shape as positional arguments (what may change the SQL's text: a page size
in ``LIMIT``) and the values as keyword arguments, which may only become parameters: it is
compiled twice per shape with two different sets of stand-ins, and a value that shows up
anywhere but as its own parameters (in the text, transformed, or steering a branch) is refused
with :class:`ShapeError` the first time, not answered wrongly. A value's kind (``None``, a
list's length) is part of the shape by itself. A builder takes its values as they come (it does
not sort or filter a list: pass it in the order wanted).

The compiled statements live in process memory, one per shape and at most ``max_shapes`` of them
(the least recently compiled goes first): a cache of code, like compiled templates, not of data;
every run reads the database afresh.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators

__all__ = ["PreparedRead", "ShapeError"]

M = TypeVar("M", bound=Model)

#: The kinds of value a prepared read takes (and lists of them).
Scalar = int | str | dt.datetime


class ShapeError(TypeError):
    """A value changes more than its own parameters: it must be part of the shape instead."""


@dataclass(frozen=True)
class _Slot:
    """Where a parameter's value comes from: ``values[name]`` (``[index]`` of a list), adapted."""

    name: str
    index: int | None
    adapt: str  # "" (as it is) or "datetime" (the backend's datetime adaptation)


_EMPTY = object()  # a shape whose statement the ORM knows to be empty (``IN ()``)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]  # a _Slot or a constant, per parameter
    model: type[Model]
    fields: tuple[int, int]
    init_list: tuple[str, ...]
    populators: tuple[Any, ...]
    annotations: tuple[tuple[str, int], ...]
    converters: tuple[tuple[int, tuple[Callable, ...], Any], ...]


class PreparedRead(Generic[M]):
    """``build(*shape, **values)`` → a queryset of model instances, compiled once per shape.

    ``read.rows(*shape, **values)`` is ``list(build(*shape, **values))``, without building or
    compiling anything once that shape has been seen.
    """

    def __init__(self, build: Callable[..., QuerySet[M]], *, max_shapes: int = 256) -> None:
        self.build = build
        self.max_shapes = max_shapes
        self._compiled: dict[Hashable, _Compiled | object] = {}
        self._lock = threading.Lock()

    def rows(self, *shape: Hashable, using: str = "default", **values: Any) -> list[M]:
        key = (using, shape, *((name, _kind(v)) for name, v in sorted(values.items())))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compile(using, shape, values)
            with self._lock:
                while len(self._compiled) >= self.max_shapes:
                    del self._compiled[next(iter(self._compiled))]
                self._compiled[key] = compiled
        if compiled is _EMPTY:
            return []
        assert isinstance(compiled, _Compiled)
        return self._run(compiled, using, values)

    def _compile(self, using: str, shape: tuple[Hashable, ...], values: dict[str, Any]) -> _Compiled | object:
        first, second = _stand_ins(values, 0), _stand_ins(values, 1)
        try:
            queryset = self.build(*shape, **first)
            compiler = queryset.query.get_compiler(using=using)
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return _EMPTY
        other_sql, other_params = self.build(*shape, **second).query.get_compiler(using=using).as_sql()
        if queryset._iterable_class is not ModelIterable or queryset._prefetch_related_lookups:
            raise ShapeError("A prepared read builds model rows only (no values(), no prefetch).")
        if sql != other_sql:
            raise ShapeError(
                f"{self.build.__qualname__}: a value changes the SQL's text; pass it as the shape."
            )
        ops = connections[using].ops
        slots, others = _slots(first, ops), _slots(second, ops)
        mapped: list[Any] = []
        for param, other in itertools.zip_longest(params, other_params, fillvalue=_EMPTY):
            slot, other_slot = _find(slots, param), _find(others, other)
            if slot != other_slot or (slot is None and param != other):
                raise ShapeError(
                    f"{self.build.__qualname__}: a value changes the statement, not only its parameters."
                )
            mapped.append(slot if slot is not None else param)
        klass_info, select = compiler.klass_info, compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])
        return _Compiled(
            sql=sql,
            params=tuple(mapped),
            model=klass_info["model"],
            fields=(start, end),
            init_list=tuple(column[0].target.attname for column in select[start:end]),
            populators=tuple(get_related_populators(klass_info, select, using)),
            annotations=tuple(compiler.annotation_col_map.items()),
            converters=tuple((pos, tuple(convs), expr) for pos, (convs, expr) in converters.items()),
        )

    @staticmethod
    def _run(compiled: _Compiled, using: str, values: dict[str, Any]) -> list[M]:
        connection = connections[using]
        params = [_value(p, values, connection.ops) if isinstance(p, _Slot) else p for p in compiled.params]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchall()
        start, end = compiled.fields
        objects: list[M] = []
        for fetched_row in fetched:
            row = list(fetched_row)
            for pos, convs, expression in compiled.converters:
                value = row[pos]
                for convert in convs:
                    value = convert(value, expression, connection)
                row[pos] = value
            obj = compiled.model.from_db(using, compiled.init_list, row[start:end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, pos in compiled.annotations:
                setattr(obj, name, row[pos])
            objects.append(obj)  # type: ignore[arg-type]
        return objects


def _kind(value: Any) -> Hashable:
    """What of a value is part of the shape: its type, and a list's length and element types."""
    if isinstance(value, list | tuple):
        return ("list", *(type(item).__name__ for item in value))
    return type(value).__name__


#: Stand-ins no real value takes (ids below any sequence, strings of control characters, times in
#: the first year of the calendar), distinct per value, per list item and per compilation.
_INT_BASE = -(2**62)
_DATETIME_BASE = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def _stand_in(value: Any, n: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _INT_BASE + n
    if isinstance(value, str):
        return f"\x1e{n}\x1f"
    if isinstance(value, dt.datetime):
        return _DATETIME_BASE + dt.timedelta(seconds=n)
    raise ShapeError(f"A prepared read takes ints, strings and datetimes (and lists of them), not {value!r}.")


def _stand_ins(values: dict[str, Any], round_: int) -> dict[str, Any]:
    counter = itertools.count(1 + round_ * 1_000_000)
    out: dict[str, Any] = {}
    for name, value in sorted(values.items()):
        if isinstance(value, list | tuple):
            out[name] = type(value)(_stand_in(item, next(counter)) for item in value)
        else:
            out[name] = _stand_in(value, next(counter))
    return out


def _tag(param: Any) -> tuple[type, Any]:
    return (type(param), param)


def _find(slots: dict[tuple[type, Any], _Slot], param: Any) -> _Slot | None:
    try:
        return slots.get(_tag(param))
    except TypeError:  # an unhashable constant (a list, a JSON document): not a stand-in
        return None


def _slots(stand_ins: dict[str, Any], ops: Any) -> dict[tuple[type, Any], _Slot]:
    """Each stand-in as it may appear among the parameters → the value it stands for."""
    found: dict[tuple[type, Any], _Slot] = {}
    for name, value in stand_ins.items():
        items = enumerate(value) if isinstance(value, list | tuple) else [(None, value)]
        for index, item in items:
            if item is None or isinstance(item, bool):
                continue
            found[_tag(item)] = _Slot(name, index, "")
            if isinstance(item, dt.datetime):
                found.setdefault(_tag(ops.adapt_datetimefield_value(item)), _Slot(name, index, "datetime"))
    return found


def _value(slot: _Slot, values: dict[str, Any], ops: Any) -> Any:
    value = values[slot.name] if slot.index is None else values[slot.name][slot.index]
    return ops.adapt_datetimefield_value(value) if slot.adapt == "datetime" else value
