"""The URLs of the simulator served on its own (``portal.simulator_wsgi``): the cloud's paths only."""

from django.urls import include, path

from ops import health

urlpatterns = [
    path("healthz/", health.healthz, name="healthz"),
    path("", include("vpcsim.urls")),
]
