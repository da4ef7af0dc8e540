"""Helpers for the simulator tests: signed test-client requests and request bodies."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from django.http import HttpResponse
from django.test import Client

import aksk
from vpcsim.models import Peering, PeeringStatus, Project, Vpc

HOST = "testserver"
PEERINGS = "/v2.0/vpc/peerings"
ROUTES = "/v2.0/vpc/routes"


@dataclass(frozen=True)
class Party:
    """One project of the simulated cloud and the keys of its account."""

    project: Project
    vpcs: list[Vpc]
    access_key: str
    secret_key: str

    @property
    def project_id(self) -> str:
        return self.project.project_id

    @property
    def vpc_ids(self) -> list[str]:
        return [str(v.vpc_id) for v in self.vpcs]


class SignedClient:
    """Sends AK/SK-signed requests as one project, the way the SDK does."""

    def __init__(self, client: Client, *, access_key: str, secret_key: str, project_id: str) -> None:
        self.client = client
        self.access_key = access_key
        self.secret_key = secret_key
        self.project_id = project_id

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | list[tuple[str, str]] | None = None,
        body: Any = None,
        raw: bytes | None = None,
        project_id: str | None = None,
        now: datetime | None = None,
        tamper: Callable[[dict[str, Any]], None] | None = None,
    ) -> HttpResponse:
        """Sign and send.

        ``project_id=""`` sends no ``X-Project-Id``. ``tamper`` gets the signed
        request as ``{"path", "body", "headers"}`` (path with query) and may change
        it before it is sent.
        """
        # Percent-encoding (space as %20, not +), as the SDK builds its URLs.
        # A lone surrogate goes out as its (invalid) UTF-8 bytes, as a careless client would send it.
        url = (
            f"{path}?{urlencode(query, doseq=True, quote_via=quote, errors='surrogatepass')}"
            if query
            else path
        )
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        # A signed per-request id, as the portal's client sends: two identical requests within
        # the same second would otherwise carry the same signature and the second be a replay.
        headers = {"Content-Type": "application/json", "Host": HOST, "X-Correlation-Id": uuid.uuid4().hex}
        if project_id != "":
            headers["X-Project-Id"] = project_id or self.project_id
        signed = aksk.sign(
            method=method,
            url=f"http://{HOST}{url}",
            headers=headers,
            body=data,
            access_key=self.access_key,
            secret_key=self.secret_key,
            now=now,
        )
        sent = {"path": url, "body": data, "headers": signed}
        if tamper:
            tamper(sent)
        # Headers go through ``headers=`` so Content-Type is sent even with an empty body.
        return self.client.generic(method, sent["path"], data=sent["body"], headers=sent["headers"])

    def get(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> HttpResponse:
        return self.request("POST", path, body=body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> HttpResponse:
        return self.request("PUT", path, body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("DELETE", path, **kwargs)


def pending_peering(requester: Party, accepter: Party, *, created_at: datetime) -> Peering:
    """A peering pending acceptance between the two parties' first VPCs, stored directly (no request)."""
    return Peering.objects.create(
        name="p",
        status=PeeringStatus.PENDING_ACCEPTANCE,
        request_vpc=requester.vpcs[0],
        request_project=requester.project,
        accept_vpc=accepter.vpcs[0],
        accept_project=accepter.project,
        created_at=created_at,
        updated_at=created_at,
    )


def peering_body(
    request_vpc: str, accept_vpc: str, accept_tenant: str | None = None, *, name: str = "link", **extra: Any
) -> dict[str, Any]:
    """A create body; ``extra`` adds or overrides top-level peering attributes."""
    accept: dict[str, Any] = {"vpc_id": accept_vpc}
    if accept_tenant is not None:
        accept["tenant_id"] = accept_tenant
    peering = {"name": name, "request_vpc_info": {"vpc_id": request_vpc}, "accept_vpc_info": accept}
    return {"peering": {**peering, **extra}}


def route_body(*, nexthop: str, vpc_id: str, destination: str, type: str = "peering") -> dict[str, Any]:
    return {"route": {"type": type, "nexthop": nexthop, "destination": destination, "vpc_id": vpc_id}}


def neutron_error(response: HttpResponse) -> dict[str, str]:
    """The ``NeutronError`` object of an error response (and check the envelope's shape)."""
    body = response.json()
    assert set(body) == {"NeutronError"}
    assert set(body["NeutronError"]) == {"message", "type", "detail"}
    return body["NeutronError"]
