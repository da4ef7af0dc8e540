"""The portal's REST API for internal tools, mounted at ``/api/v1/``."""
