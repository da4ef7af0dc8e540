"""Reads of the simulated cloud, always scoped to the calling project.

A project sees the peerings it requested and those addressed to it, the routes
in its own VPCs and its own VPCs. Anything else reads as not found.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import QueryDict

from vpcsim import sql
from vpcsim.errors import not_found
from vpcsim.expiry import expire_due
from vpcsim.models import Peering, Project, Route, Vpc
from vpcsim.store import DB
from vpcsim.validation import parse_uuid

__all__ = [
    "peering_from_row",
    "peering_get",
    "peerings_filter",
    "peerings_visible",
    "route_get",
    "routes_filter",
    "routes_visible",
    "vpcs_filter",
    "vpcs_visible",
]

_PEERING_RELATED = ("request_vpc", "request_project__account", "accept_vpc", "accept_project__account")


def _values(params: QueryDict, name: str) -> list[str]:
    """The non-blank values of a repeatable filter parameter."""
    return [v for v in params.getlist(name) if v != ""]


def _uuids(values: list[str]) -> list:
    """The values that are UUIDs; others can match nothing."""
    return [u for u in (parse_uuid(v) for v in values) if u is not None]


def peerings_visible(*, project: Project) -> QuerySet[Peering]:
    expire_due()
    return (
        Peering.objects.filter(Q(request_project=project) | Q(accept_project=project))
        .select_related(*_PEERING_RELATED)
        .order_by("peering_id")
    )


def peerings_filter(queryset: QuerySet[Peering], params: QueryDict) -> QuerySet[Peering]:
    """Filters ``id``, ``name``, ``status``, ``tenant_id`` and ``vpc_id`` (either side); repeats OR."""
    if ids := _values(params, "id"):
        queryset = queryset.filter(peering_id__in=_uuids(ids))
    if names := _values(params, "name"):
        queryset = queryset.filter(name__in=names)
    if statuses := _values(params, "status"):
        queryset = queryset.filter(status__in=statuses)
    if tenants := _values(params, "tenant_id"):
        queryset = queryset.filter(
            Q(request_project__project_id__in=tenants) | Q(accept_project__project_id__in=tenants)
        )
    if vpcs := _values(params, "vpc_id"):
        vpc_ids = _uuids(vpcs)
        queryset = queryset.filter(Q(request_vpc__vpc_id__in=vpc_ids) | Q(accept_vpc__vpc_id__in=vpc_ids))
    return queryset


_PEERING_SQL = """
SELECT p.id, p.peering_id, p.name, p.description, p.status, p.request_vpc_id, p.request_project_id,
       p.accept_vpc_id, p.accept_project_id, p.created_at, p.updated_at,
       rv.vpc_id, rp.project_id, av.vpc_id, ap.project_id
FROM vpcsim_peering p
JOIN vpcsim_vpc rv ON rv.id = p.request_vpc_id
JOIN vpcsim_project rp ON rp.id = p.request_project_id
JOIN vpcsim_vpc av ON av.id = p.accept_vpc_id
JOIN vpcsim_project ap ON ap.id = p.accept_project_id
WHERE p.peering_id = %s AND (p.request_project_id = %s OR p.accept_project_id = %s)
"""
_PEERING_FIELDS = [
    "id",
    "peering_id",
    "name",
    "description",
    "status",
    "request_vpc_id",
    "request_project_id",
    "accept_vpc_id",
    "accept_project_id",
    "created_at",
    "updated_at",
]


def peering_from_row(row: tuple, *, sides: tuple[tuple, tuple]) -> Peering:
    """A :class:`Peering` from its columns in model order, its VPCs and projects attached.

    (``Model.from_db`` takes the loaded fields in the model's field order.)

    ``sides`` holds, per side, ``(vpc_pk, vpc_id, project_pk, project_id)``; the attached
    VPCs and projects carry only those fields (others are read on first access).
    """
    peering = Peering.from_db(
        DB,
        _PEERING_FIELDS,
        [
            *row[:1],
            sql.to_uuid(row[1]),
            *row[2:9],
            sql.to_datetime(row[9]),
            sql.to_datetime(row[10]),
        ],
    )
    cache = peering._state.fields_cache
    for prefix, (vpc_pk, vpc_id, project_pk, project_id) in zip(("request", "accept"), sides, strict=True):
        cache[f"{prefix}_vpc"] = Vpc.from_db(
            DB, ["id", "project_id", "vpc_id"], [vpc_pk, project_pk, sql.to_uuid(vpc_id)]
        )
        cache[f"{prefix}_project"] = Project.from_db(DB, ["id", "project_id"], [project_pk, project_id])
    return peering


def peering_get(
    *, project: Project, peering_id: str, for_update: bool = False, swept: bool = False
) -> Peering:
    """The visible peering ``peering_id``, else 404 ``VpcPeeringNotFound``.

    One hand-written statement (after the expiry check, unless the caller ``swept`` already).
    Its VPCs and projects carry their ids only.
    """
    if not swept:
        expire_due()
    row = None
    if (uid := parse_uuid(peering_id)) is not None:
        query = _PEERING_SQL + (sql.for_update("p") if for_update else "")
        row = sql.fetchone(query, [sql.param(Peering, "peering_id", uid), project.pk, project.pk])
    if row is None:
        raise not_found("VpcPeeringNotFound", f"VPC peering connection {peering_id} could not be found.")
    request_side, accept_side = (row[5], row[11], row[6], row[12]), (row[7], row[13], row[8], row[14])
    return peering_from_row(row, sides=(request_side, accept_side))


def routes_visible(*, project: Project) -> QuerySet[Route]:
    expire_due()
    return (
        Route.objects.filter(project=project).select_related("nexthop", "vpc", "project").order_by("route_id")
    )


def routes_filter(queryset: QuerySet[Route], params: QueryDict) -> QuerySet[Route]:
    """Filters ``id``, ``type``, ``vpc_id``, ``destination`` and ``tenant_id``; repeats OR."""
    if ids := _values(params, "id"):
        queryset = queryset.filter(route_id__in=_uuids(ids))
    if types := _values(params, "type"):
        queryset = queryset.filter(type__in=types)
    if vpcs := _values(params, "vpc_id"):
        queryset = queryset.filter(vpc__vpc_id__in=_uuids(vpcs))
    if destinations := _values(params, "destination"):
        queryset = queryset.filter(destination__in=destinations)
    if tenants := _values(params, "tenant_id"):
        queryset = queryset.filter(project__project_id__in=tenants)
    return queryset


def route_get(*, project: Project, route_id: str) -> Route:
    """The project's route ``route_id``, else 404 ``RouteNotFound``."""
    route = None
    if (uid := parse_uuid(route_id)) is not None:
        route = routes_visible(project=project).filter(route_id=uid).first()
    if route is None:
        raise not_found("RouteNotFound", f"Route {route_id} could not be found.")
    return route


def vpcs_visible(*, project: Project) -> QuerySet[Vpc]:
    return Vpc.objects.filter(project=project).select_related("project").order_by("vpc_id")


def vpcs_filter(queryset: QuerySet[Vpc], params: QueryDict) -> QuerySet[Vpc]:
    """Filters ``id`` and ``enterprise_project_id`` (every VPC is in the default project ``0``)."""
    if ids := _values(params, "id"):
        queryset = queryset.filter(vpc_id__in=_uuids(ids))
    enterprise = params.get("enterprise_project_id")
    if enterprise not in (None, "", "0", "all_granted_eps"):
        queryset = queryset.none()
    return queryset
