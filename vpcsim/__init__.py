"""A wire-compatible simulator of the Huawei Cloud VPC API (peerings, routes, VPCs).

The portal never imports this package: it reaches the simulator over HTTP only,
exactly as it reaches the cloud.
"""
