"""Company sign-in's URLs, under ``/accounts/oidc/`` (names as mozilla-django-oidc expects them)."""

from django.urls import path

from sso.views import CallbackView, SignInView

urlpatterns = [
    path("authenticate/", SignInView.as_view(), name="oidc_authentication_init"),
    path("callback/", CallbackView.as_view(), name="oidc_authentication_callback"),
]
