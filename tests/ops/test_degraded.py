"""The platform underneath failing, in one process: the database down, the shared cache down.

The same failures with real processes (a PostgreSQL stopped, a Redis killed) are in
``tests/multiprocess/test_platform_failures.py``.
"""

from __future__ import annotations

import json

import pytest
from django.db import InterfaceError, OperationalError, connections
from django.test import Client
from prometheus_client import REGISTRY

from ops import shared_cache


@pytest.fixture
def database_down():
    """Every new statement fails as with a stopped server (the error type is the test's choice);
    the database is back before the test database is rolled back."""
    with pytest.MonkeyPatch.context() as patch:

        def down(error: type[Exception] = OperationalError) -> None:
            def refuse(self, *args, **kwargs):
                raise error("connection to server at 127.0.0.1 failed: Connection refused")

            patch.setattr(type(connections["default"]), "_cursor", refuse)

        yield down


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_the_api_answers_503_in_its_error_shape_with_retry_after(error, acme_api, database_down, settings):
    settings.DATABASE_UNAVAILABLE_RETRY_AFTER = 7
    database_down(error)

    response = acme_api.get("/api/v1/peerings/")  # the token is read from the database first

    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    assert response.json()["error"]["code"] == "database_unavailable"
    assert "Retry later" in response.json()["error"]["message"]


def test_a_page_answers_a_plain_503_page_even_when_the_session_read_fails(acme_member, database_down):
    browser = Client(raise_request_exception=False)
    browser.force_login(acme_member)
    database_down()

    response = browser.get("/peerings/")  # the session middleware's read is the first to fail

    assert response.status_code == 503
    assert response["Retry-After"]
    assert "Briefly unavailable" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_a_session_api_call_fails_in_the_middleware_and_still_gets_json(acme_member, database_down):
    browser = Client(raise_request_exception=False)
    browser.force_login(acme_member)
    database_down()

    response = browser.get("/api/v1/peerings/")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"


def test_other_uncaught_errors_under_the_api_still_answer_json_500(rf):
    from ops.unavailable import server_error

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        response = server_error(rf.get("/api/v1/peerings/"))

    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"


@pytest.fixture
def redis_down(settings, closed_port):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def _cache_errors(use: str) -> float:
    return REGISTRY.get_sample_value("portal_cache_errors_total", {"use": use}) or 0.0


def test_throttles_fail_open_when_the_cache_is_down_and_count_it(acme_api, redis_down, caplog):
    before = _cache_errors("throttle")

    reads = [acme_api.get("/api/v1/peerings/") for _ in range(3)]
    write = acme_api.post("/api/v1/peerings/", {}, format="json")

    assert [r.status_code for r in reads] == [200, 200, 200]
    assert write.status_code == 400  # the request's own fault, not the cache's
    assert _cache_errors("throttle") >= before + 4  # the user throttle on each call, the write's too
    assert "the shared cache is unreachable (throttle)" in caplog.text


def test_pages_and_sign_in_need_no_cache(acme_member, redis_down):
    browser = Client()
    assert (
        browser.post("/accounts/login/", {"username": acme_member.username, "password": "x"}).status_code
        == 200
    )
    browser.force_login(acme_member)
    assert browser.get("/").status_code == 200
    assert browser.get("/peerings/").status_code == 200


def test_the_vpc_list_cache_is_a_miss_when_the_cache_is_down(redis_down):
    before = _cache_errors("vpc_list")
    shared_cache.safe_set("k", [1], 30, use="vpc_list")
    assert shared_cache.safe_get("k", use="vpc_list", default="miss") == "miss"
    assert _cache_errors("vpc_list") == before + 2


def test_throttles_still_limit_when_the_cache_is_up(acme_api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "2/minute", "writes": "100/minute"},
    }
    from django.core.cache import cache

    cache.clear()
    codes = [acme_api.get("/api/v1/peerings/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
