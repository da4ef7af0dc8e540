"""The site's own small views (not of any app)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers and tools ask for /favicon.ico whatever the page links: the portal's SVG icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
