"""The one list of names whose values are secrets, masked wherever a record or a log line shows them.

The cloud client's recorded bodies (:func:`peerings.cloud.scrub`) and the JSON log lines'
``extra=`` fields (:mod:`ops.logging`) both ask :func:`is_secret`.
"""

from __future__ import annotations

__all__ = ["MASK", "SECRET_NAMES", "SECRET_PARTS", "is_secret"]

#: Names that are secrets whole (compared lower-case, ``-`` read as ``_``).
SECRET_NAMES = frozenset(
    {
        "access_key",
        "ak",
        "api_key",
        "authorization",
        "key",
        "password",
        "secret",
        "secret_key",
        "sk",
        "token",
    }
)
#: Any name containing one of these is a secret.
SECRET_PARTS = ("secret", "password", "passwd", "token", "authorization", "credential", "cookie")
#: What a secret's value is shown as.
MASK = "********"


def is_secret(name: str) -> bool:
    """Whether a value under ``name`` (a body's key, a log record's extra) is a secret."""
    lowered = name.lower().replace("-", "_")
    return lowered in SECRET_NAMES or any(part in lowered for part in SECRET_PARTS)
