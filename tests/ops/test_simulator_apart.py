"""The simulator served on its own: only the cloud's paths, and only when enabled."""

from __future__ import annotations

from wsgiref.util import setup_testing_defaults

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.simulator import SimulatorWSGIHandler


def get(handler: SimulatorWSGIHandler, path: str) -> int:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "HTTP_HOST": "127.0.0.1"}
    setup_testing_defaults(environ)
    status = []
    response = handler(environ, lambda s, headers, exc_info=None: status.append(s))
    b"".join(response)
    response.close()
    return int(status[0].split()[0])


@pytest.mark.django_db
def test_only_the_simulators_paths_are_served():
    handler = SimulatorWSGIHandler()

    assert get(handler, "/healthz/") == 200
    assert get(handler, "/v2.0/vpc/peerings") == 401  # unsigned: the simulator's signature check answers
    assert get(handler, "/api/v1/peerings/") == 404
    assert get(handler, "/admin/") == 404


def test_refused_unless_enabled(settings):
    settings.VPC_SIMULATOR_ENABLED = False
    with pytest.raises(ImproperlyConfigured, match="VPC_SIMULATOR_ENABLED"):
        SimulatorWSGIHandler()
