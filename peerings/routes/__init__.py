"""Routes over an active peering: the pure plan (conflicts) lives here; writes in ``route_workflow``."""
