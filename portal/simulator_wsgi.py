"""WSGI module of the VPC API simulator served on its own: ``gunicorn portal.simulator_wsgi``.

Refuses to start unless ``VPC_SIMULATOR_ENABLED`` is true. See :mod:`portal.simulator`.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup(set_prefix=False)

from portal.simulator import SimulatorWSGIHandler  # noqa: E402

application = SimulatorWSGIHandler()
