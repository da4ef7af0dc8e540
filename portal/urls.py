"""The portal's URLs; the simulator's are mounted at the root, as the cloud serves them.

The portal's own pages (``/``, ``/peerings/...``, ``/accounts/...``) come first; none of
them can be taken for the simulator's ``/v2.0/...`` or ``/v1/...`` paths.
"""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.views import PreferencesView
from ops import health, metrics
from portal.views import favicon
from sso.views import LogoutView

urlpatterns = [
    path("healthz/", health.healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("readyz/", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # The admin's own password change is the portal's (it offers to revoke the API tokens).
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("peerings.api.urls", namespace="api")),
    path("accounts/preferences/", PreferencesView.as_view(), name="preferences"),
    # Sign-out ends the provider's session too, when the user signed in there (sso).
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("accounts/oidc/", include("sso.urls")),
    path("accounts/", include("accounts.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("peerings.urls")),
]

# Uncaught errors: the database down answers 503 with Retry-After (ops.unavailable), never a 500.
handler500 = "ops.unavailable.server_error"

if settings.VPC_SIMULATOR_ENABLED:
    # The embedded VPC API simulator answers on the cloud's own paths
    # (/v2.0/vpc/..., /v1/{project_id}/vpcs); the portal reaches it over HTTP only.
    urlpatterns += [path("", include("vpcsim.urls"))]
