"""Reads at 1k, 10k and 100k peerings: p95 and queries per request, in this process.

Requests go through Django's test client (the whole middleware stack, no socket), so the
figures are the server's own time. Each figure is compared with the same read at the
smallest size, measured in the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.report import Table, p95
from bench.seed import seed_to
from peerings import selectors
from peerings.api.pagination import cursor_for
from peerings.models import Peering

__all__ = ["bench_scale"]

SIZES = (1_000, 10_000, 100_000)


def _clients() -> dict[str, Client]:
    from demo.seed import demo_token_key

    users = get_user_model().objects
    api = Client()
    api.defaults["HTTP_AUTHORIZATION"] = f"Token {demo_token_key('alice')}"
    alice, bob, admin = Client(), Client(), Client()
    alice.force_login(users.get(username="alice"))
    bob.force_login(users.get(username="bob"))
    admin.force_login(users.get(username="admin"))
    return {"api": api, "alice": alice, "bob": bob, "admin": admin}


def _deep_cursor() -> str:
    """The cursor after the middle row of alice's peerings, newest first."""
    alice = get_user_model().objects.get(username="alice")
    visible = selectors.visible_peerings(alice).order_by("-created_at", "-id")
    middle = visible.count() // 2
    row = visible.values("created_at", "id")[middle]
    return cursor_for(["-created_at", "-id"], [row["created_at"], row["id"]])


def _reads() -> list[tuple[str, str, Callable[[], str]]]:
    """(label, client, path-maker): paths are made at each size (a deep page depends on it)."""

    def middle_peering() -> str:
        mine = Peering.objects.filter(name__startswith="bench-", requester_tenant__name="Acme Production")
        pk = mine.order_by("id").values_list("pk", flat=True)[20]
        return f"/api/v1/peerings/{pk}/status-changes/"

    def deep_page_number() -> str:
        alice = get_user_model().objects.get(username="alice")
        pages = selectors.visible_peerings(alice).count() // 50
        return f"/api/v1/peerings/?page={max(1, pages // 2)}"

    return [
        ("API peerings, first page", "api", lambda: "/api/v1/peerings/"),
        ("API peerings, ACTIVE by name", "api", lambda: "/api/v1/peerings/?status=ACTIVE&ordering=name"),
        ("API peerings, deep page (cursor)", "api", lambda: f"/api/v1/peerings/?cursor={_deep_cursor()}"),
        ("API peerings, deep ?page= (offset)", "api", deep_page_number),
        ("API calls, first page", "api", lambda: "/api/v1/calls/"),
        ("API status-changes of a peering", "api", middle_peering),
        ("page: dashboard (approver)", "bob", lambda: "/"),
        ("page: peering list", "alice", lambda: "/peerings/"),
        ("admin: peerings changelist", "admin", lambda: "/admin/peerings/peering/"),
        ("admin: calls changelist", "admin", lambda: "/admin/peerings/upstreamcall/"),
    ]


# Reads that are goals; the others are shown for what they cost.
NOT_GOALS = {"API peerings, deep ?page= (offset)"}


def bench_scale(table: Table, repeat: int = 25, sizes: tuple[int, ...] = SIZES) -> None:
    clients = _clients()
    reads = _reads()
    results: dict[str, dict[int, tuple[float, int]]] = {label: {} for label, _, _ in reads}
    for size in sizes:
        took = seed_to(size)
        table.note(
            f"seeded {size:,} peerings (+{2 * size:,} status changes, +{2 * size:,} calls) in {took:.1f} s"
        )
        for label, who, make in reads:
            path = make()
            client = clients[who]
            for _ in range(3):  # warm up
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code, response.content[:300])
            with CaptureQueriesContext(connection) as ctx:
                client.get(path)
            queries = len(ctx.captured_queries)
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                client.get(path)
                samples.append((time.perf_counter() - started) * 1000)
            results[label][size] = (p95(samples), queries)
    base = sizes[0]
    for label, by_size in results.items():
        cells = []
        for size in sizes:
            ms, queries = by_size[size]
            cells.append(f"{ms:7.1f} ms {queries:>2}q")
        ratio = by_size[sizes[-1]][0] / by_size[base][0]
        same_queries = len({q for _, q in by_size.values()}) == 1
        goal = label not in NOT_GOALS
        verdict = ("holds" if ratio <= 1.3 and same_queries else "FAILS") if goal else "(not a goal)"
        table.row(f"scale p95 {label}", " | ".join(cells), f"{ratio:.2f}x", "<= 1.3x, same queries", verdict)
