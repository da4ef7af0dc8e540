"""The API's Swagger UI page: a person who is signed out is sent to sign in, not shown a bare 401."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response


class ApiDocsView(SpectacularSwaggerSplitView):
    """The docs page behind the portal's sign-in (a token client still gets the API's 401)."""

    def handle_exception(self, exc: Exception) -> Response:
        request: Request = self.request
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed) and (
            "HTTP_AUTHORIZATION" not in request.META
        ):
            return redirect_to_login(request.get_full_path())
        return super().handle_exception(exc)
