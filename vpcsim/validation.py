"""Request bodies to validated inputs, with Neutron's attribute-error wording.

Attribute errors read "Invalid input for <attribute>. Reason: <reason>"
(400 ``InvalidInput``), e.g. the cloud's own
"Invalid input for accept_vpc_info. Reason: 'x' is not a valid UUID.";
structural errors read "Bad <resource> request: <message>" (400 ``BadRequest``)
and unparsable JSON "Malformed request body: <reason>" (400 ``MalformedRequestBody``).

Hostile input is refused before anything reads it: a body nested deeper than
:data:`MAX_DEPTH` (or so deep the parser gives up) is malformed, and a NUL
character or a lone UTF-16 surrogate (``"\ud800"``) in any string or key of a
body, or in a query parameter, is 400 ``InvalidInput`` -- no database stores
them (PostgreSQL refuses NUL in text, SQLite cannot encode a lone surrogate).
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from vpcsim.errors import bad_request, invalid_attribute, invalid_input, malformed_body

__all__ = [
    "PeeringCreateInput",
    "RouteCreateInput",
    "check_text",
    "parse_json",
    "parse_uuid",
    "peering_create_input",
    "peering_update_input",
    "route_create_input",
]

NAME_MAX = 64
#: Deepest nesting of arrays/objects accepted in a body (a valid one nests three levels).
MAX_DEPTH = 32
DESCRIPTION_MAX = 255
_PEERING_FIELDS = {"name", "description", "request_vpc_info", "accept_vpc_info"}
_READ_ONLY_PEERING_FIELDS = {
    "id",
    "status",
    "request_vpc_info",
    "accept_vpc_info",
    "created_at",
    "updated_at",
}
_VPC_INFO_FIELDS = {"vpc_id", "tenant_id"}
#: What a name may not hold: C0 and C1 controls (CR, LF, tab...), DEL and the Unicode line and
#: paragraph separators. The API states no charset for names; the cloud's Terraform provider
#: allows only letters, digits, CJK and ``-._``, so none of these is a name the cloud takes.
_NAME_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ROUTE_FIELDS = {"type", "nexthop", "destination", "vpc_id"}


@dataclass(frozen=True)
class PeeringCreateInput:
    name: str
    description: str
    request_vpc_id: uuid.UUID
    request_tenant_id: str | None
    accept_vpc_id: uuid.UUID
    accept_tenant_id: str | None


@dataclass(frozen=True)
class RouteCreateInput:
    type: str
    nexthop: uuid.UUID
    destination: str
    vpc_id: uuid.UUID


def _bad_character(text: str) -> str | None:
    """What is wrong with ``text`` as stored text: a NUL or a lone surrogate, else ``None``."""
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "an invalid Unicode character (a lone surrogate)"
    return None


def check_text(text: str, what: str) -> None:
    """Refuse a NUL or a lone surrogate in ``text`` (``what`` names it in the message)."""
    if (problem := _bad_character(text)) is not None:
        raise invalid_input(f"{what} contains {problem}.")


def _check_tree(data: Any) -> None:
    """Walk a parsed body without recursion: depth limit, then every key and string."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            raise malformed_body(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                check_text(key, "the request body")
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            check_text(value, "the request body")


def parse_json(body: bytes) -> Any:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise malformed_body(str(exc) or "not JSON") from None
    except RecursionError:
        raise malformed_body(f"nested deeper than {MAX_DEPTH} levels") from None
    _check_tree(data)
    return data


def parse_uuid(value: Any) -> uuid.UUID | None:
    """The UUID ``value`` spells, or ``None``."""
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _resource(data: Any, resource: str) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get(resource), dict):
        raise bad_request(resource, f"Unable to find '{resource}' in request body")
    return data[resource]


def _no_unknown(body: dict[str, Any], allowed: set[str], resource: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad_request(resource, f"Unrecognized attribute(s) '{', '.join(unknown)}'")


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid_attribute("name", f"'{value}' is not a valid string.")
    if not value:
        raise invalid_attribute("name", f"'' is too short, minimum length is 1 and maximum is {NAME_MAX}.")
    if len(value) > NAME_MAX:
        raise invalid_attribute("name", f"'{value}' exceeds maximum length of {NAME_MAX}.")
    if _NAME_CONTROL_RE.search(value):
        raise invalid_attribute("name", f"{value!r} contains control characters.")
    return value


def _description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_attribute("description", f"'{value}' is not a valid string.")
    if len(value) > DESCRIPTION_MAX:
        raise invalid_attribute("description", f"'{value}' exceeds maximum length of {DESCRIPTION_MAX}.")
    if "<" in value or ">" in value:
        raise invalid_attribute("description", f"'{value}' must not contain '<' or '>'.")
    return value


def _vpc_info(body: dict[str, Any], attribute: str) -> tuple[uuid.UUID, str | None]:
    if attribute not in body:
        raise invalid_attribute(attribute, "Missing required attribute.")
    info = body[attribute]
    if not isinstance(info, dict):
        raise invalid_attribute(attribute, f"'{info}' is not a dictionary.")
    unknown = sorted(set(info) - _VPC_INFO_FIELDS)
    if unknown:
        raise invalid_attribute(attribute, f"Unrecognized key(s) '{', '.join(unknown)}'.")
    if "vpc_id" not in info:
        raise invalid_attribute(attribute, "Missing required key 'vpc_id'.")
    vpc_id = parse_uuid(info["vpc_id"])
    if vpc_id is None:
        raise invalid_attribute(attribute, f"'{info['vpc_id']}' is not a valid UUID.")
    tenant_id = info.get("tenant_id")
    if tenant_id is not None and not isinstance(tenant_id, str):
        raise invalid_attribute(attribute, f"'{tenant_id}' is not a valid string.")
    return vpc_id, tenant_id or None


def peering_create_input(data: Any) -> PeeringCreateInput:
    body = _resource(data, "peering")
    _no_unknown(body, _PEERING_FIELDS, "peering")
    if "name" not in body:
        raise invalid_attribute("name", "Missing required attribute.")
    name = _name(body["name"])
    description = _description(body.get("description"))
    request_vpc_id, request_tenant_id = _vpc_info(body, "request_vpc_info")
    accept_vpc_id, accept_tenant_id = _vpc_info(body, "accept_vpc_info")
    return PeeringCreateInput(
        name=name,
        description=description,
        request_vpc_id=request_vpc_id,
        request_tenant_id=request_tenant_id,
        accept_vpc_id=accept_vpc_id,
        accept_tenant_id=accept_tenant_id,
    )


def peering_update_input(data: Any) -> dict[str, str]:
    """The changed attributes: a non-empty subset of ``name`` and ``description``."""
    body = _resource(data, "peering")
    read_only = sorted(set(body) & _READ_ONLY_PEERING_FIELDS)
    if read_only:
        raise bad_request("peering", f"Cannot update read-only attribute {read_only[0]}")
    _no_unknown(body, {"name", "description"}, "peering")
    changes: dict[str, str] = {}
    if "name" in body:
        changes["name"] = _name(body["name"])
    if "description" in body:
        changes["description"] = _description(body["description"])
    if not changes:
        raise bad_request("peering", "At least one of 'name' and 'description' must be given")
    return changes


def route_create_input(data: Any) -> RouteCreateInput:
    body = _resource(data, "route")
    _no_unknown(body, _ROUTE_FIELDS, "route")
    for attribute in ("type", "nexthop", "destination", "vpc_id"):
        if attribute not in body:
            raise invalid_attribute(attribute, "Missing required attribute.")
    if body["type"] != "peering":
        raise invalid_attribute("type", f"'{body['type']}' is not in ['peering'].")
    nexthop = parse_uuid(body["nexthop"])
    if nexthop is None:
        raise invalid_attribute("nexthop", f"'{body['nexthop']}' is not a valid UUID.")
    vpc_id = parse_uuid(body["vpc_id"])
    if vpc_id is None:
        raise invalid_attribute("vpc_id", f"'{body['vpc_id']}' is not a valid UUID.")
    destination = body["destination"]
    try:
        network = (
            ipaddress.ip_network(destination, strict=True)
            if isinstance(destination, str) and "/" in destination
            else None
        )
    except ValueError:
        network = None
    if network is None:
        raise invalid_attribute("destination", f"'{destination}' is not a valid CIDR.")
    return RouteCreateInput(type="peering", nexthop=nexthop, destination=str(network), vpc_id=vpc_id)
