"""Running the portal as a service: job leases and run records, correlation ids, request logs,
health checks, metrics, the database-down answer, the shared cache done without, retention, the
backup drill, and the egress policy of outbound calls."""
