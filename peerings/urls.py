"""The self-service pages (namespace ``peerings``); every change is a POST to its own URL."""

from django.urls import path

from peerings import network_views, views
from peerings.permissions import Action
from peerings.routes import views as route_views

app_name = "peerings"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("peerings/", views.PeeringListView.as_view(), name="list"),
    path("peerings/new/", views.PeeringRequestView.as_view(), name="request"),
    path("peerings/export/", views.PeeringExportView.as_view(), name="export"),
    path("queue/", views.DecisionQueueView.as_view(), name="queue"),
    path("map/", network_views.NetworkMapView.as_view(), name="map"),
    path("map/data/", network_views.NetworkMapDataView.as_view(), name="map-data"),
    path("search/", network_views.SearchView.as_view(), name="search"),
    path("peerings/<int:pk>/", views.PeeringDetailView.as_view(), name="detail"),
    path("peerings/<int:pk>/edit/", views.PeeringEditView.as_view(), name="edit"),
    path("peerings/<int:pk>/accept/", views.PeeringDecideView.as_view(action=Action.ACCEPT), name="accept"),
    path("peerings/<int:pk>/reject/", views.PeeringDecideView.as_view(action=Action.REJECT), name="reject"),
    path(
        "peerings/<int:pk>/approve/", views.PeeringDecideView.as_view(action=Action.APPROVE), name="approve"
    ),
    path(
        "peerings/<int:pk>/decline/", views.PeeringDecideView.as_view(action=Action.DECLINE), name="decline"
    ),
    path("peerings/<int:pk>/refresh/", views.PeeringRefreshView.as_view(), name="refresh"),
    path("peerings/<int:pk>/delete/", views.PeeringDeleteView.as_view(), name="delete"),
    path("peerings/<int:pk>/routes/", route_views.PeeringRoutesView.as_view(), name="routes"),
    path("peerings/<int:pk>/routes/remove/", route_views.RouteRemoveView.as_view(), name="routes-remove"),
]
