"""Project-wide middleware: refuse oversized or mis-encoded requests early, no caching of private answers."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers

from ops.api_shape import error_body, is_api

__all__ = ["NoStoreMiddleware", "RequestLimitsMiddleware", "client_ip", "is_api", "too_large_response"]

TOO_LARGE_CODE = "request_too_large"
BAD_ENCODING_CODE = "invalid_encoding"
BAD_ENCODING_MESSAGE = "The request's query string or form data is not valid UTF-8."
NUL_MESSAGE = "The request's query string or form data contains a NUL character."
FORM_TYPE = "application/x-www-form-urlencoded"


#: The cloud's own paths, answered by the embedded simulator (when enabled) in the cloud's shapes.
CLOUD_PREFIXES = ("/v2.0/", "/v1/")


def is_cloud_path(request: HttpRequest) -> bool:
    return request.path_info.startswith(CLOUD_PREFIXES)


def _decoded(urlencoded: str | bytes) -> str | None:
    """``urlencoded`` percent-decoded as UTF-8, or ``None`` when it is not UTF-8."""
    if isinstance(urlencoded, str):
        urlencoded = urlencoded.encode("latin-1", "replace")  # WSGI hands over latin-1
    try:
        return unquote_to_bytes(urlencoded.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _refusal(request: HttpRequest, urlencoded: str | bytes) -> str | None:
    """Why this query string or form body is refused, if it is.

    Not UTF-8: everywhere. A NUL character: on the pages and the admin; the API's filters
    and bodies refuse it field by field, with the field named in the error.
    """
    text = _decoded(urlencoded)
    if text is None:
        return BAD_ENCODING_MESSAGE
    if "\x00" in text and not is_api(request):
        return NUL_MESSAGE
    return None


def bad_request_response(request: HttpRequest, message: str) -> HttpResponse:
    """400 for a query string or form body no form should see."""
    if is_api(request):
        return JsonResponse(error_body(BAD_ENCODING_CODE, message), status=400)
    html = render_to_string("400.html", {"message": message})
    return HttpResponse(html, status=400)


def too_large_response(request: HttpRequest) -> HttpResponse:
    """413: in the API's error shape under ``/api/``, a short page elsewhere."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = f"The request body is larger than this service accepts ({limit} bytes at most)."
    if is_api(request):
        response: HttpResponse = JsonResponse(error_body(TOO_LARGE_CODE, message), status=413)
    else:
        html = render_to_string("413.html", {"limit": limit, "message": message})
        response = HttpResponse(html, status=413)
    # No Connection header: hop-by-hop headers are the server's (wsgiref answers 500 to one), and
    # every server in use drains the unread body before it reads the next request.
    return response


class RequestLimitsMiddleware:
    """Refuse, before any view or form sees them, requests no front can handle well.

    * A body whose declared length exceeds ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413. Django
      itself raises ``RequestDataTooBig`` only when the body is first read (in a view, the
      CSRF check or a parser), which surfaces as a 400 page or, in the API, as an
      unexpected error.
    * A query string or form body that is not UTF-8 (a lone surrogate's bytes, say): 400.
      Django would decode it with replacement characters, silently changing what the user
      sent.
    * On the pages and the admin, a query string or form body with a NUL character: 400
      (no browser sends one; PostgreSQL text cannot hold it). The API refuses NUL field by
      field (``peerings.validation.validate_text`` and DRF's own validators).

    Under ``/api/`` the answers have the API's error shape. The cloud's own paths are left
    to the simulator, which answers hostile input in the cloud's envelopes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_cloud_path(request):
            return self.get_response(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return too_large_response(request)
        refusal = _refusal(request, request.META.get("QUERY_STRING", ""))
        if refusal is None and request.content_type == FORM_TYPE and length:
            refusal = _refusal(request, request.body)
        if refusal is not None:
            return bad_request_response(request, refusal)
        return self.get_response(request)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (and friends) on every API answer and every signed-in page.

    What a signed-in user sees (peerings, tenants, history, tokens) must not stay in a
    browser's or a shared proxy's cache. DRF sets ``request.user`` on the Django request
    when a token authenticates, so token calls are covered too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if is_api(request) or (user is not None and user.is_authenticated):
            add_never_cache_headers(response)
        return response


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for sign-in limits (``AXES_CLIENT_IP_CALLABLE``).

    The peer's address, unless ``TRUSTED_PROXY_COUNT`` proxies sit in front of the portal:
    then the address the outermost of them saw, counted from the right of
    ``X-Forwarded-For`` (entries further left are the client's to choose).
    """
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        chain = [part for part in chain if part]
        if len(chain) >= proxies:
            return chain[-proxies]
    return request.META.get("REMOTE_ADDR")
