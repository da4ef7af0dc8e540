"""The small field validators shared by forms and serializers (and the request rules).

Each raises Django's ``ValidationError`` with a message of :mod:`peerings.rules.messages`.
The rules of a whole request live in :mod:`peerings.rules.request`; the limits in
:mod:`peerings.rules.limits`.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.core.exceptions import ValidationError

from peerings.rules.limits import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH
from peerings.rules.messages import (
    DESCRIPTION_FORBIDDEN_CHARACTERS,
    DESCRIPTION_TOO_LONG,
    NAME_CONTROL_CHARACTERS,
    NAME_REQUIRED,
    NAME_TOO_LONG,
    PROJECT_ID_INVALID,
    TEXT_NUL,
    TEXT_SURROGATE,
    VPC_ID_INVALID,
)

__all__ = [
    "CONTROL_CHARACTERS_RE",
    "control_characters",
    "validate_description",
    "validate_name",
    "validate_project_id",
    "validate_text",
    "validate_vpc_id",
]

_PROJECT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
#: C0 and C1 controls (CR, LF and tab among them), DEL, and the Unicode line and paragraph
#: separators: none can be part of a one-line name, and a line break in one would end an
#: e-mail subject header. The cloud states no charset for names (its Terraform provider allows
#: only letters, digits, CJK and ``-._``), so refusing these is within what it accepts.
CONTROL_CHARACTERS_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


# --- Single fields (forms and serializers use these) ---------------------------------------


def validate_text(value: Any) -> Any:
    """Any text the portal stores or forwards: no NUL (PostgreSQL text cannot hold it, and the
    cloud would get it) and no unpaired surrogate (it cannot be encoded as UTF-8)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError(TEXT_NUL, code="null_characters_not_allowed")
        if _SURROGATE_RE.search(value):
            raise ValidationError(TEXT_SURROGATE, code="surrogate_characters_not_allowed")
    return value


def control_characters(value: str) -> bool:
    """Whether ``value`` holds a control character or a line separator (see ``CONTROL_CHARACTERS_RE``)."""
    return CONTROL_CHARACTERS_RE.search(value) is not None


def validate_name(value: str | None) -> str:
    """A peering name: 1 to ``NAME_MAX_LENGTH`` (64) characters, not only spaces, no control
    character (CR, LF, tab, other C0/C1 controls, line separators) and no lone surrogate."""
    if value is None or not str(value).strip():
        raise ValidationError(NAME_REQUIRED, code="required")
    validate_text(value)
    if control_characters(value):
        raise ValidationError(NAME_CONTROL_CHARACTERS, code="control_characters")
    if len(value) > NAME_MAX_LENGTH:
        raise ValidationError(NAME_TOO_LONG, code="max_length")
    return value


def validate_description(value: str | None) -> str:
    """A peering description: at most ``DESCRIPTION_MAX_LENGTH`` (255) characters, without ``<``
    or ``>``, NUL or lone surrogate."""
    value = value or ""
    validate_text(value)
    if len(value) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(DESCRIPTION_TOO_LONG, code="max_length")
    if "<" in value or ">" in value:
        raise ValidationError(DESCRIPTION_FORBIDDEN_CHARACTERS, code="forbidden_characters")
    return value


def validate_vpc_id(value: Any) -> uuid.UUID:
    """A VPC id, which the cloud requires to be a UUID."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value or "").strip())
    except ValueError:
        raise ValidationError(VPC_ID_INVALID, code="invalid") from None


def validate_project_id(value: str | None) -> str:
    """A project id (32 hex characters, or a UUID as some documents show), lower-cased."""
    text = str(value or "").strip().lower()
    if _PROJECT_ID_RE.match(text):
        return text
    try:
        if str(uuid.UUID(text)) == text:
            return text
    except ValueError:
        pass
    raise ValidationError(PROJECT_ID_INVALID, code="invalid")
