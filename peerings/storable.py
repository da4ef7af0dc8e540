"""Values every database the portal runs on can store, whatever the cloud answered.

PostgreSQL cannot keep a NUL character in ``text`` or ``jsonb``, psycopg cannot encode
a lone UTF-16 surrogate (``"\\ud800"`` in JSON decodes to one), and ``jsonb`` has no
``NaN`` or ``Infinity``. :func:`storable` turns each of them into visible text instead
of dropping it: NUL becomes the six characters ``\\u0000``, a lone surrogate
``\\ud800``, a non-finite number its name. Everything else is returned unchanged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["storable"]

# NUL and every surrogate code point: a well-formed str holds surrogates only when they are lone
# (or a pair decoded without being joined), and neither can be encoded as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def storable(value: Any) -> Any:
    """``value`` (a string or a JSON-like value at any depth, keys included) made storable."""
    if isinstance(value, str):
        return _UNSTORABLE.sub(_escape, value)
    if isinstance(value, Mapping):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value).replace("inf", "Infinity").replace("nan", "NaN")
    return value
