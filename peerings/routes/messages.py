"""The messages of the route rules, shared by the permissions, the workflow and every front."""

NOT_YOUR_SIDE = "Only members of a side's tenant may change the routes in that side's VPC."
NO_SIDE_TENANT = "The portal holds no keys for that side: its routes are added in its own cloud console."
NOT_ACTIVE = "Routes are added and removed only while the peering is active; this one is {status}."
NO_DESTINATIONS = "Give at least one destination: the peer VPC's range or subnets of it."
PEER_RANGE_UNKNOWN = (
    "The peer VPC's range is not known to the portal: give the destinations (subnets of it) yourself."
)
BLOCKED = "Nothing was sent: resolve the conflicts first."
ROUTE_NOT_LIVE = "This route is {state}: there is nothing to remove."
TOO_MANY = "At most {limit} destinations at once."
