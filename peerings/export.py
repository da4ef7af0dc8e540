"""The history exported as CSV or JSON lines, streamed: rows are read in chunks, never all at once.

The API (``calls/export/``, ``status-changes/export/``) and the admin's export actions hand a
queryset already walled to the user and filtered (:mod:`peerings.selectors`; calls as the user may
see them, :func:`~peerings.selectors.calls_as_seen`); this module only turns it into a
:class:`~django.http.StreamingHttpResponse`, within the bounds of :mod:`peerings.export_limits`
(a row cap, and a slot of the user's held while it streams). CSV cells go through
:func:`peerings.spreadsheet.safe_cell`.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from peerings import export_limits
from peerings.selectors import shown
from peerings.spreadsheet import csv_writer, safe_cell

__all__ = [
    "CALL_COLUMNS",
    "CHUNK_SIZE",
    "FORMATS",
    "STATUS_CHANGE_COLUMNS",
    "Table",
    "export_response",
    "fields_table",
]

#: Rows fetched from the database at a time.
CHUNK_SIZE = 2000

#: Text handed to the server at a time (rows are joined up to about this many characters).
BUFFER_CHARS = 64 * 1024

#: Export formats: content type and file extension.
FORMATS = {"csv": ("text/csv; charset=utf-8", "csv"), "jsonl": ("application/x-ndjson", "jsonl")}

#: (column, queryset field) of each export.
CALL_COLUMNS = [
    ("id", "id"),
    ("created_at", "created_at"),
    ("tenant", "tenant__name"),
    ("tenant_project_id", "tenant__project_id"),
    ("peering", "peering_id"),
    ("operation", "operation"),
    ("method", "method"),
    ("url", shown("url")),
    ("status_code", "status_code"),
    ("error_code", "error_code"),
    ("error_message", shown("error_message")),
    ("duration_ms", "duration_ms"),
    ("attempts", "attempts"),
    ("acting_user", "acting_user__username"),
    ("correlation_id", "correlation_id"),
    ("cloud_request_id", shown("cloud_request_id")),
    ("request_body", shown("request_body")),
    ("response_body", shown("response_body")),
    ("details_hidden", "details_hidden"),
]
STATUS_CHANGE_COLUMNS = [
    ("id", "id"),
    ("created_at", "created_at"),
    ("peering", "peering_id"),
    ("peering_name", "peering__name"),
    ("peering_id", "peering__upstream_id"),  # the cloud's id, named as in the API
    ("peering_upstream_id", "peering__upstream_id"),  # its deprecated name, until 0.3.0
    ("old_status", "old_status"),
    ("new_status", "new_status"),
    ("actor", "actor__username"),
    ("reason", "reason"),
    ("source", "source"),
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _cell(value: Any) -> Any:
    """A CSV cell: JSON for structures, empty for null, text a spreadsheet would run defused."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return safe_cell(value) if isinstance(value, str) else value


def _rows(queryset: QuerySet, columns: list[tuple[str, str]]) -> Iterator[tuple]:
    return queryset.values_list(*(field for _, field in columns)).iterator(chunk_size=CHUNK_SIZE)


def _buffered(lines: Iterator[str]) -> Iterator[str]:
    """Lines joined into pieces of about :data:`BUFFER_CHARS` (fewer, larger writes)."""
    buffer: list[str] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= BUFFER_CHARS:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


@dataclass(frozen=True)
class Table:
    """An export's columns and how to read its rows from the (walled, filtered, capped) queryset."""

    names: list[str]
    rows: Callable[[QuerySet], Iterable[Sequence[Any]]]


def fields_table(columns: list[tuple[str, str]]) -> Table:
    """A table of ``(column, field)`` pairs: each row one ``values_list`` of the queryset."""
    return Table([name for name, _ in columns], lambda queryset: _rows(queryset, columns))


def _csv_lines(queryset: QuerySet, table: Table) -> Iterator[str]:
    writer = csv_writer(_Echo())
    yield writer.writerow(table.names)
    for row in table.rows(queryset):
        yield writer.writerow([_cell(v) for v in row])


def _jsonl_lines(queryset: QuerySet, table: Table) -> Iterator[str]:
    for row in table.rows(queryset):
        yield json.dumps(dict(zip(table.names, map(_plain, row), strict=True)), ensure_ascii=False) + "\n"


def _table(columns: list[tuple[str, str]] | Table) -> Table:
    return columns if isinstance(columns, Table) else fields_table(columns)


def stream_csv(queryset: QuerySet, columns: list[tuple[str, str]] | Table) -> Iterator[str]:
    return _buffered(_csv_lines(queryset, _table(columns)))


def stream_jsonl(queryset: QuerySet, columns: list[tuple[str, str]] | Table) -> Iterator[str]:
    return _buffered(_jsonl_lines(queryset, _table(columns)))


def export_response(
    queryset: QuerySet, columns: list[tuple[str, str]] | Table, *, fmt: str, name: str, user: Any
) -> StreamingHttpResponse:
    """``queryset`` as a streamed download in ``fmt`` (``csv`` or ``jsonl``), for ``user``.

    At most :func:`~peerings.export_limits.row_limit` rows, in the queryset's order; the headers
    say the limit and whether rows were left out. Holds one of ``user``'s export slots while it
    streams; raises :class:`~peerings.export_limits.ExportsBusy` when they are all held.
    """
    content_type, extension = FORMATS[fmt]
    limit = export_limits.row_limit()
    lease = export_limits.take_slot(user)
    try:
        # Whether a row lies past the limit, in any order: the database may count the cheapest way.
        truncated = queryset.order_by()[limit : limit + 1].exists()
    except BaseException:
        lease.release()
        raise
    capped = queryset[:limit]
    rows = stream_csv(capped, columns) if fmt == "csv" else stream_jsonl(capped, columns)
    response = StreamingHttpResponse(export_limits.HeldStream(rows, lease), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{extension}"'
    response["Cache-Control"] = "no-store"
    response[export_limits.ROW_LIMIT_HEADER] = str(limit)
    response[export_limits.TRUNCATED_HEADER] = "true" if truncated else "false"
    return response
