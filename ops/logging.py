"""Log lines as JSON (one object per line), and the correlation id on every record.

:class:`JsonFormatter` writes the usual fields (``time``, ``level``, ``logger``, ``message``)
and then every ``extra=`` field a call passed, generically: the request log's method, path,
status, duration_ms, user_id, tenant; the cloud client's operation, attempts, error_code; and
so on. An extra whose name looks like a secret is masked, whatever its value, as a last line of
defence: no code logs keys, tokens or passwords on purpose.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from ops import correlation
from ops.redaction import MASK, is_secret

__all__ = ["CorrelationIdFilter", "JsonFormatter", "TextFormatter"]

#: Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRS = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName", "correlation_id"}
)


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra=`` fields of ``record``, secret-looking ones masked."""
    return {
        key: MASK if is_secret(key) else value
        for key, value in vars(record).items()
        if key not in _RECORD_ATTRS and not key.startswith("_")
    }


class CorrelationIdFilter(logging.Filter):
    """Sets ``record.correlation_id`` to the current request's or job's id (unless the call gave one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) in (None, ""):
            record.correlation_id = correlation.current() or ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        cid = getattr(record, "correlation_id", "") or correlation.current()
        if cid:
            entry["correlation_id"] = cid
        for key, value in extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The plain format for development, with the correlation id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        cid = getattr(record, "correlation_id", "")
        return f"{line} [{cid}]" if cid and cid not in line else line
