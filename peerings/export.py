"""The history exported as CSV or JSON lines, streamed: rows are read in chunks, never all at once.

The API (``calls/export/``, ``status-changes/export/``) and the admin's export actions hand a
queryset already walled to the user and filtered (:mod:`peerings.selectors`; calls as the user may
see them, :func:`~peerings.selectors.calls_as_seen`); this module only turns it into a
:class:`~django.http.StreamingHttpResponse`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from peerings.selectors import shown

__all__ = ["CALL_COLUMNS", "CHUNK_SIZE", "FORMATS", "STATUS_CHANGE_COLUMNS", "export_response"]

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
    ("peering_upstream_id", "peering__upstream_id"),
    ("old_status", "old_status"),
    ("new_status", "new_status"),
    ("actor", "actor__username"),
    ("reason", "reason"),
    ("source", "source"),
]

#: A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


def _cell(value: Any) -> Any:
    """A CSV cell: JSON for structures, empty for null, formulas defused with a leading quote."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


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


def _csv_lines(queryset: QuerySet, columns: list[tuple[str, str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _ in columns])
    for row in _rows(queryset, columns):
        yield writer.writerow([_cell(v) for v in row])


def _jsonl_lines(queryset: QuerySet, columns: list[tuple[str, str]]) -> Iterator[str]:
    names = [name for name, _ in columns]
    for row in _rows(queryset, columns):
        yield json.dumps(dict(zip(names, map(_plain, row), strict=True)), ensure_ascii=False) + "\n"


def stream_csv(queryset: QuerySet, columns: list[tuple[str, str]]) -> Iterator[str]:
    return _buffered(_csv_lines(queryset, columns))


def stream_jsonl(queryset: QuerySet, columns: list[tuple[str, str]]) -> Iterator[str]:
    return _buffered(_jsonl_lines(queryset, columns))


def export_response(
    queryset: QuerySet, columns: list[tuple[str, str]], *, fmt: str, name: str
) -> StreamingHttpResponse:
    """``queryset`` as a streamed download in ``fmt`` (``csv`` or ``jsonl``)."""
    content_type, extension = FORMATS[fmt]
    rows = stream_csv(queryset, columns) if fmt == "csv" else stream_jsonl(queryset, columns)
    response = StreamingHttpResponse(rows, content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{extension}"'
    response["Cache-Control"] = "no-store"
    return response
