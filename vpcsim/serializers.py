"""Model instances to wire dictionaries, field for field as the cloud answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from vpcsim.models import Peering, Route, Vpc

__all__ = ["format_time", "peering_to_wire", "route_to_wire", "vpc_to_wire"]


def format_time(value: dt.datetime) -> str:
    """UTC without a zone suffix: ``YYYY-MM-DDTHH:MM:SS``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def peering_to_wire(peering: Peering) -> dict[str, Any]:
    """The peering object; both ``tenant_id`` are always filled."""
    return {
        "id": str(peering.peering_id),
        "name": peering.name,
        "description": peering.description,
        "status": peering.status,
        "request_vpc_info": {
            "vpc_id": str(peering.request_vpc.vpc_id),
            "tenant_id": peering.request_project.project_id,
        },
        "accept_vpc_info": {
            "vpc_id": str(peering.accept_vpc.vpc_id),
            "tenant_id": peering.accept_project.project_id,
        },
        "created_at": format_time(peering.created_at),
        "updated_at": format_time(peering.updated_at),
    }


def route_to_wire(route: Route) -> dict[str, Any]:
    return {
        "id": str(route.route_id),
        "destination": route.destination,
        "nexthop": str(route.nexthop.peering_id),
        "type": route.type,
        "vpc_id": str(route.vpc.vpc_id),
        "tenant_id": route.project.project_id,
    }


def vpc_to_wire(vpc: Vpc) -> dict[str, Any]:
    """A v1 VPC; ``routes`` stays empty (peering routes live in ``/v2.0/vpc/routes``)."""
    return {
        "id": str(vpc.vpc_id),
        "name": vpc.name,
        "cidr": vpc.cidr,
        "status": vpc.status,
        "description": vpc.description,
        "routes": [],
        "enterprise_project_id": "0",
        "tenant_id": vpc.project.project_id,
        "created_at": format_time(vpc.created_at),
        "updated_at": format_time(vpc.updated_at),
    }
