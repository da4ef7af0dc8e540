"""Text from users and the cloud, made safe for e-mails: one-line headers, quoted words.

A peering's name, a tenant's name or a cloud message may hold line breaks (an old row, a name
renamed in the cloud): :func:`one_line` makes them a single line, so a subject header can
always be built. A reason or a description is the peer's own words: :func:`quoted` prefixes
each of its lines with ``> ``, so it can never pass for the portal's own paragraphs.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["one_line", "quoted"]

#: C0 and C1 controls (CR, LF and tab among them), DEL and the Unicode line and paragraph separators.
_CONTROLS_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES_RE = re.compile(r" {2,}")
_LINE_BREAKS_RE = re.compile("\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
#: Controls other than the line breaks, inside quoted text.
_OTHER_CONTROLS_RE = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")


def one_line(value: Any) -> str:
    """``value`` as text on one line: every run of control characters becomes one space."""
    text = "" if value is None else str(value)
    return _SPACES_RE.sub(" ", _CONTROLS_RE.sub(" ", text)).strip()


def quoted(value: Any) -> str:
    """``value`` quoted as someone's words in a plain-text e-mail: each line after ``> ``.

    Every line break (CR, LF, CRLF, the Unicode separators) starts a new quoted line; other
    control characters are dropped, a tab kept as a space.
    """
    text = "" if value is None else str(value)
    text = _OTHER_CONTROLS_RE.sub("", text.replace("\t", " "))
    return "\n".join(f"> {line}".rstrip() for line in _LINE_BREAKS_RE.split(text.strip()))
