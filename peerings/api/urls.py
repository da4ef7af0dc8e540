"""``/api/v1/``: one router (namespace ``api``), the OpenAPI schema and its Swagger UI."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from peerings.api.directory import DirectoryViewSet
from peerings.api.docs import ApiDocsView
from peerings.api.history import StatusChangeViewSet, UpstreamCallViewSet
from peerings.api.search import SearchApi
from peerings.api.views import (
    ApiRootView,
    PeeringViewSet,
    TenantViewSet,
    not_found,
)

app_name = "api"

router = DefaultRouter()
router.APIRootView = ApiRootView
router.register("tenants", TenantViewSet, basename="tenant")
router.register("directory", DirectoryViewSet, basename="directory")
router.register("peerings", PeeringViewSet, basename="peering")
router.register("calls", UpstreamCallViewSet, basename="call")
router.register("status-changes", StatusChangeViewSet, basename="status-change")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script as a file (?script): no inline code, for the CSP.
    path("docs/", ApiDocsView.as_view(url_name="api:schema"), name="docs"),
    path("search/", SearchApi.as_view(), name="search"),
    *router.urls,
    # Anything else under /api/v1/ (an id that is not a number, say) is a 404 in the error shape.
    re_path(r"^[\s\S]*$", not_found, name="not-found"),
]
