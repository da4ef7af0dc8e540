"""The simulator's paths, exactly the cloud's (mounted at the site root)."""

from django.urls import path, re_path

from vpcsim import views

app_name = "vpcsim"

urlpatterns = [
    path("", views.api_versions, name="versions"),
    path("v2.0/vpc/peerings", views.PeeringCollectionView.as_view(), name="peering-list"),
    path("v2.0/vpc/peerings/<str:peering_id>", views.PeeringDetailView.as_view(), name="peering-detail"),
    path(
        "v2.0/vpc/peerings/<str:peering_id>/accept", views.PeeringAcceptView.as_view(), name="peering-accept"
    ),
    path(
        "v2.0/vpc/peerings/<str:peering_id>/reject", views.PeeringRejectView.as_view(), name="peering-reject"
    ),
    path("v2.0/vpc/routes", views.RouteCollectionView.as_view(), name="route-list"),
    path("v2.0/vpc/routes/<str:route_id>", views.RouteDetailView.as_view(), name="route-detail"),
    path("v1/<str:project_id>/vpcs", views.VpcCollectionView.as_view(), name="vpc-list"),
    re_path(r"^v2\.0/", views.UnknownPathView.as_view(), name="unknown-v2"),
    re_path(r"^v1/", views.UnknownPathView.as_view(envelope="v1"), name="unknown-v1"),
]
