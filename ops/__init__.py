"""Running the portal as a service: job locks, correlation ids, request logs, health checks, egress."""
