"""The portal's one exception family; each front maps it once (HTML, admin, REST).

``CloudError`` and its two tiers are raised by the cloud client; the rest by the
workflow and the validation it shares with every front.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from peerings.call_record import CallRecord
    from peerings.models import Peering

__all__ = [
    "CloudBusy",
    "CloudError",
    "CloudRefused",
    "CloudUnavailable",
    "InvalidState",
    "NotPermitted",
    "OperationInFlight",
    "PortalError",
    "RequestInvalid",
]


class PortalError(Exception):
    """Base of every error a front may show to a user.

    ``peering`` is the peering the workflow kept or found (a request saved but not
    confirmed by the cloud, a peering whose status another decision moved), so a front
    can link to it.
    """

    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, peering: Peering | None = None) -> None:
        self.message = message or self.default_message
        self.peering = peering
        super().__init__(self.message)


class NotPermitted(PortalError):
    """The acting user's memberships do not allow this action."""

    default_message = "You are not allowed to do this."


class InvalidState(PortalError):
    """The peering's status does not allow this action."""

    default_message = "The peering's status does not allow this."


class OperationInFlight(InvalidState):
    """Another operation on the peering is waiting for the cloud: try again after ``retry_after`` seconds."""

    default_message = "Another operation on this peering is still waiting for the cloud."

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **kwargs) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(message, **kwargs)


class CloudBusy(PortalError):
    """This server is already waiting on the cloud for as many calls as it allows
    (:mod:`peerings.bulkhead`): nothing was sent or saved; try again after ``retry_after`` seconds."""

    default_message = (
        "The portal is busy waiting on the cloud for other requests; nothing was sent or saved. "
        "Try again in a few seconds."
    )

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **kwargs) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(message, **kwargs)


class RequestInvalid(PortalError):
    """Input that breaks a rule; ``errors`` maps field names to messages.

    ``needs_confirmation`` is set when the only problem is a warning (a partial
    CIDR overlap) that the user may accept by confirming.
    """

    default_message = "The request is invalid."

    def __init__(self, errors: dict[str, list[str]], *, needs_confirmation: bool = False) -> None:
        self.errors = errors
        self.needs_confirmation = needs_confirmation
        first = next((msgs[0] for msgs in errors.values() if msgs), None)
        super().__init__(first)


class CloudError(PortalError):
    """A call to the cloud's VPC API failed.

    ``status`` is the HTTP status (``None`` when no response came), ``code`` the
    cloud's error code (a Neutron type such as ``InvalidInput``, ``VPC.0101`` or
    ``APIGW.0301``), ``message`` the cloud's message, ``record`` the call.
    """

    default_message = "The cloud's VPC API failed."

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        code: str = "",
        record: CallRecord | None = None,
        peering: Peering | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.record = record
        super().__init__(message, peering=peering)

    def __str__(self) -> str:
        prefix = f"{self.status} " if self.status else ""
        code = f"{self.code}: " if self.code else ""
        return f"{prefix}{code}{self.message}"


class CloudRefused(CloudError):
    """The cloud answered and refused the call (4xx): showing its message is safe."""

    default_message = "The cloud refused the request."


class CloudUnavailable(CloudError):
    """The cloud could not be reached, timed out or failed (5xx, 429 after retries).

    ``outcome_unknown`` is set when the request may have reached the cloud and
    been carried out (a read timeout after sending it).
    """

    default_message = "The cloud's VPC API is unavailable; try again later."

    def __init__(self, message: str | None = None, *, outcome_unknown: bool = False, **kwargs) -> None:
        self.outcome_unknown = outcome_unknown
        super().__init__(message, **kwargs)
