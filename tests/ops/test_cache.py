"""portal.cache.DatabaseCache: Django's database cache semantics, one statement per write on PostgreSQL."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portal.cache import DatabaseCache


@pytest.fixture
def cache(transactional_db):
    call_command("createcachetable", "bench_test_cache", verbosity=0)
    backend = DatabaseCache("bench_test_cache", {"OPTIONS": {"CULL_INTERVAL": 3600, "MAX_ENTRIES": 3}})
    if connection.vendor == "postgresql":
        # The session waits for the disk, as the portal's own does (an embedded simulator served
        # earlier in this process may have turned it off for the shared connection).
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = on")
    yield backend
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_test_cache")
        if connection.vendor == "postgresql":
            cursor.execute("RESET synchronous_commit")


def test_set_get_add_touch_and_expiry(cache):
    cache.set("a", {"n": 1}, 60)
    cache.set("a", {"n": 2}, 60)  # replaced
    assert cache.get("a") == {"n": 2}
    assert cache.add("a", "other", 60) is False  # present: add leaves it
    assert cache.get("a") == {"n": 2}
    cache.set("gone", 1, -1)  # already expired
    assert cache.get("gone") is None
    assert cache.add("gone", 2, 60) is True  # an expired entry is replaced by add
    assert cache.get("gone") == 2
    assert cache.touch("a", 120) is True
    assert cache.get_many(["a", "gone", "missing"]) == {"a": {"n": 2}, "gone": 2}


def test_a_write_is_one_statement_on_postgresql(cache):
    if connection.vendor != "postgresql":
        pytest.skip("other databases keep Django's own writes")
    cache.set("k", 1, 60)  # the first write of the hour counts the table
    with CaptureQueriesContext(connection) as queries:
        cache.set("k", [1.0, 2.0], 60)
    assert len(queries) == 1
    assert queries[0]["sql"].startswith("INSERT INTO")


def test_the_table_is_culled_now_and_then(cache):
    cache._cull_interval = 0  # count on every write, as Django does
    for n in range(8):
        cache.set(f"k{n}", n, 60)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM bench_test_cache")
        assert cursor.fetchone()[0] <= 4  # MAX_ENTRIES 3 (+ the write after a cull)


def test_a_write_outside_a_transaction_does_not_wait_for_the_disk(cache):
    if connection.vendor != "postgresql":
        pytest.skip("other databases keep Django's own writes")
    cache.set("k", 1, 60)
    with CaptureQueriesContext(connection) as queries:
        cache.set("k", 2, 60)
    assert "set_config('synchronous_commit', 'off', true)" in queries[0]["sql"]
    assert cache.get("k") == 2
    with connection.cursor() as cursor:  # for that statement only: the session's commits still wait
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_a_write_inside_a_transaction_leaves_its_commit_alone(cache):
    if connection.vendor != "postgresql":
        pytest.skip("other databases keep Django's own writes")
    cache.set("k", 1, 60)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        cache.set("k", 2, 60)
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    assert not any("synchronous_commit" in q["sql"] and "INSERT" in q["sql"] for q in queries)
    assert cache.get("k") == 2
