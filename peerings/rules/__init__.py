"""The portal's rules as pure functions: no database, no HTTP, no model queries.

``limits`` (every length, count and size limit), ``messages`` (every user-facing refusal),
``request`` (a new peering request), ``overlap`` (CIDR blocks), ``duties`` (separation of
duties), ``expiry`` (the pending-acceptance deadline) and ``decisions`` (which decisions need a
reason). Import the modules themselves: this package imports nothing, so models may use it.
"""
