"""The portal: tenants, their members, peerings and the history of every cloud call."""
