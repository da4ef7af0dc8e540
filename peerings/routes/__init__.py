"""Routes over an active peering: the pure plan (conflicts), the records, the workflow that applies them."""
