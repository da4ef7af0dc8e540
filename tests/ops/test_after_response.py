"""Work deferred within a request runs once its response is closed; outside one it is declined."""

from __future__ import annotations

from django.http import HttpResponse
from django.test import RequestFactory

from ops import after_response, correlation


def test_outside_a_request_defer_declines():
    assert after_response.defer(lambda: None) is False


def test_deferred_work_runs_when_the_response_closes_under_the_request_id(db, caplog):
    ran: list[str | None] = []

    def view(request):
        assert after_response.defer(lambda: ran.append(correlation.current()))
        assert after_response.defer(lambda: 1 / 0)  # logged; the others still run
        assert after_response.defer(lambda: ran.append("second"))
        return HttpResponse("ok")

    middleware = after_response.AfterResponseMiddleware(view)
    token = correlation.set_current("req-1")
    try:
        response = middleware(RequestFactory().get("/"))
    finally:
        correlation.reset(token)

    assert ran == []  # not before the response is handed over
    assert after_response.defer(lambda: None) is False  # the request's list is gone
    response.close()
    assert ran == ["req-1", "second"]
    assert "Work deferred after the response failed" in caplog.text


def test_a_request_without_deferred_work_gets_no_closer():
    response = after_response.AfterResponseMiddleware(lambda request: HttpResponse("ok"))(
        RequestFactory().get("/")
    )
    assert response._resource_closers == []
