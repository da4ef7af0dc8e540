"""Reads at 1k, 10k and 100k peerings: p95 and queries per request, in this process.

Requests go through Django's test client (the whole middleware stack, no socket), so the
figures are the server's own time. Each size has its own database (a copy of the seeded
demo, grown by COPY); the sizes are read in alternating rounds and each figure is compared
with the same read at the smallest size, in the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.report import Table, median, p95
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
        ("API peerings, ?page=10 (numbered)", "api", lambda: "/api/v1/peerings/?page=10&page_size=20"),
        ("API peerings, deep ?page= (offset)", "api", deep_page_number),
        ("API calls, first page", "api", lambda: "/api/v1/calls/"),
        ("API status-changes of a peering", "api", middle_peering),
        ("page: dashboard (approver)", "bob", lambda: "/"),
        ("page: approver's queue", "bob", lambda: "/queue/"),
        ("page: peering list", "alice", lambda: "/peerings/"),
        ("admin: peerings changelist", "admin", lambda: "/admin/peerings/peering/"),
        ("admin: calls changelist", "admin", lambda: "/admin/peerings/upstreamcall/"),
    ]


# Reads that are goals; the others are shown for what they cost.
NOT_GOALS = {"API peerings, deep ?page= (offset)"}


def _use(database: str) -> None:
    """Point this process's connection at another of the bench's databases."""
    connection.close()
    connection.settings_dict["NAME"] = database


def prepare(sizes: tuple[int, ...] = SIZES) -> dict[int, str]:
    """One database per size, each a copy of the seeded demo grown to its size: reads at every
    size can then be measured in alternating rounds, so the machine's noise falls on all alike."""
    base = connection.settings_dict["NAME"]
    databases = {}
    for size in sizes:
        name = f"{base}_{size // 1000}k"
        connection.close()
        with psycopg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{base}"')
        databases[size] = name
    for size, name in databases.items():
        _use(name)
        took = seed_to(size)
        print(f"  .. seeded {size:,} peerings, each with 2 status changes and 2 calls, in {took:.1f} s")
    _use(base)
    return databases


def psycopg_admin():
    import psycopg

    cfg = connection.settings_dict
    params = {
        "host": cfg.get("HOST"),
        "port": cfg.get("PORT"),
        "user": cfg.get("USER"),
        "password": cfg.get("PASSWORD"),
        "dbname": "postgres",
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)


def bench_scale(table: Table, databases: dict[int, str], rounds: int = 10, per_round: int = 6) -> None:
    base = connection.settings_dict["NAME"]
    reads = _reads()
    sizes = sorted(databases)
    paths: dict[int, list[str]] = {}
    clients_at: dict[int, dict[str, Client]] = {}
    queries: dict[str, dict[int, int]] = {label: {} for label, _, _ in reads}
    samples: dict[str, dict[int, list[float]]] = {
        label: {size: [] for size in sizes} for label, _, _ in reads
    }
    for size in sizes:
        _use(databases[size])
        clients = clients_at[size] = _clients()  # sessions live in each database
        paths[size] = [make() for _, _, make in reads]
        for (label, who, _), path in zip(reads, paths[size], strict=True):
            response = clients[who].get(path)
            assert response.status_code == 200, (path, response.status_code, response.content[:300])
            with CaptureQueriesContext(connection) as ctx:
                clients[who].get(path)
            queries[label][size] = len(ctx.captured_queries)
    for _ in range(rounds):
        for size in sizes:
            _use(databases[size])
            for (label, who, _), path in zip(reads, paths[size], strict=True):
                client = clients_at[size][who]
                client.get(path)  # the connection is new: warm it
                for _ in range(per_round):
                    started = time.perf_counter()
                    client.get(path)
                    samples[label][size].append((time.perf_counter() - started) * 1000)
    _use(base)
    smallest, largest = sizes[0], sizes[-1]
    for label, _, _ in reads:
        cells = [f"{p95(samples[label][size]):6.1f} ms {queries[label][size]:>2}q" for size in sizes]
        ratio = p95(samples[label][largest]) / p95(samples[label][smallest])
        same_queries = len(set(queries[label].values())) == 1
        goal = label not in NOT_GOALS
        verdict = ("holds" if ratio <= 1.3 and same_queries else "FAILS") if goal else "(not a goal)"
        medians = f"median {median(samples[label][smallest]):.1f} / {median(samples[label][largest]):.1f} ms"
        table.row(
            f"p95 {label}", " | ".join(cells) + f" ({medians})", f"{ratio:.2f}x", "<= 1.3x, same q", verdict
        )
