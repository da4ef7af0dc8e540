"""The network map's data at the size the issue names: 300 VPCs and 1,000 peerings for one viewer.

A viewer who is a member of 10 of 30 tenants, each with 10 VPCs; 1,000 peerings between random VPCs of
which at least one side is the viewer's, so every one is on the viewer's map. The map's data view
(walls, filters, one read, the graph) is timed in process with Django's test client, after a warm-up.
"""

from __future__ import annotations

import random
import time
import uuid

from bench.report import Table, median, p95

__all__ = ["bench_map"]

TENANTS, VPCS_PER_TENANT, PEERINGS, VIEWER_TENANTS = 30, 10, 1000, 10
GOAL_MS = 300.0


def _seed() -> object:
    from django.contrib.auth import get_user_model

    from peerings.choices import PeeringStatus, Role
    from peerings.models import Membership, Peering, Tenant

    viewer, _ = get_user_model().objects.get_or_create(username="bench-map-viewer")
    tenants = [
        Tenant.objects.create(
            name=f"map-tenant-{i:02}",
            project_id=uuid.uuid4().hex,
            access_key=f"AKMAP{i:015d}",
            secret_key=uuid.uuid4().hex,
        )
        for i in range(TENANTS)
    ]
    Membership.objects.bulk_create(
        Membership(user=viewer, tenant=tenant, role=Role.APPROVER) for tenant in tenants[:VIEWER_TENANTS]
    )
    vpcs = [
        (tenant, uuid.uuid4(), f"vpc-{t:02}-{v}", f"10.{t}.{v * 16}.0/20")
        for t, tenant in enumerate(tenants)
        for v in range(VPCS_PER_TENANT)
    ]
    mine = [vpc for vpc in vpcs if vpc[0] in tenants[:VIEWER_TENANTS]]
    rng = random.Random(7)
    statuses = [PeeringStatus.ACTIVE, PeeringStatus.PENDING_ACCEPTANCE, PeeringStatus.AWAITING_APPROVAL]
    rows, pairs = [], set()
    while len(rows) < PEERINGS:  # one open peering per VPC pair, as the cloud (and a constraint) has it
        requester, accepter = rng.choice(mine), rng.choice(vpcs)
        pair = frozenset((requester[1], accepter[1]))
        if len(pair) < 2 or pair in pairs:
            continue
        pairs.add(pair)
        i = len(rows)
        rows.append(
            Peering(
                name=f"map-{i:04}",
                status=rng.choice(statuses),
                upstream_id=str(uuid.uuid4()),
                requester_tenant=requester[0],
                requester_project_id=requester[0].project_id,
                requester_vpc_id=requester[1],
                requester_vpc_name=requester[2],
                requester_vpc_cidr=requester[3],
                accepter_tenant=accepter[0],
                accepter_project_id=accepter[0].project_id,
                accepter_vpc_id=accepter[1],
                accepter_vpc_name=accepter[2],
                accepter_vpc_cidr=accepter[3],
            )
        )
    Peering.objects.bulk_create(rows, batch_size=500)
    return viewer


def bench_map(table: Table, repeat: int = 30) -> None:
    from django.test import Client
    from django.urls import reverse

    viewer = _seed()
    client = Client()
    client.force_login(viewer)
    url = reverse("peerings:map-data")
    counts = client.get(url).json()["counts"]  # warm-up, and what was drawn
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    worst = p95(samples)
    table.row(
        f"map data, {counts['vpcs']} VPCs / {counts['peerings']} peerings (in process)",
        f"median {median(samples):.0f} ms, p95 {worst:.0f} ms",
        goal=f"< {GOAL_MS:.0f} ms",
        verdict="holds" if worst < GOAL_MS else "FAILS",
    )
