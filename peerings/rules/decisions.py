"""Which decisions need a reason: the requester reads it, so a reject or a decline must say why.

The page forms, the API's serializers and the admin ask here; so does the workflow.
"""

from __future__ import annotations

from peerings.rules.messages import DECLINE_REASON_REQUIRED, REASON_REQUIRED

__all__ = ["REASON_REQUIRED_FOR", "needs_reason", "reason_problem"]

#: The decisions that need a reason (the requester reads it), by action, with the message when missing.
REASON_REQUIRED_FOR = {"reject": REASON_REQUIRED, "decline": DECLINE_REASON_REQUIRED}


def needs_reason(action: str) -> bool:
    """Whether ``action`` (``"reject"``, ``"decline"``…) may not be taken without a reason."""
    return str(action) in REASON_REQUIRED_FOR


def reason_problem(action: str, reason: str | None) -> str | None:
    """The message when ``action`` needs a reason and ``reason`` is blank (spaces only); else ``None``."""
    if (reason or "").strip():
        return None
    return REASON_REQUIRED_FOR.get(str(action))
