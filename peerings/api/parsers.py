"""The API's JSON parser: DRF's, with a nesting limit checked before anything is decoded.

Python's JSON decoder recurses once per level of nesting, so a small body nested a
thousand levels deep raises ``RecursionError`` (a 500) in the decoder, or later in any
code that walks the data. No request of this API nests more than a few levels, so the
raw text is scanned (in linear time, without recursion) and refused with a 400
``parse_error`` past :data:`MAX_DEPTH`.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.settings import api_settings
from rest_framework.utils import json

__all__ = ["MAX_DEPTH", "DepthLimitedJSONParser", "json_depth"]

#: Deepest nesting of arrays and objects a request body may have.
MAX_DEPTH = 32

# A JSON string literal (escapes included); brackets inside strings are not nesting.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The nesting depth of ``text`` as JSON, counting no further than ``limit + 1``."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


class DepthLimitedJSONParser(JSONParser):
    """``application/json`` bodies nested at most :data:`MAX_DEPTH` levels; anything else is a 400."""

    max_depth = MAX_DEPTH

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
        except (LookupError, UnicodeError, ValueError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_depth(text, self.max_depth) > self.max_depth:
            raise ParseError(f"JSON parse error - nested deeper than {self.max_depth} levels.")
        strict = api_settings.STRICT_JSON
        try:
            return json.loads(text, parse_constant=json.strict_constant if strict else None)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
