"""Overlapping CIDR blocks of the two VPCs of a request.

Two CIDR blocks are either disjoint, identical, or one strictly contains the other. The rule is
symmetric: the same two VPCs get the same answer whichever side asks.

* identical blocks: no route can tell the two networks apart. Refused.
* one block inside the other (either way round): routes through the peering can reach only the
  subnets that do not overlap on either side. A warning the user must confirm (``confirm_overlap``).

**Need to know**: a requester who is not a member of the peer tenant is told that the ranges
overlap, never the peer's range (``show_peer`` false).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from peerings.rules.messages import CIDR_IDENTICAL, CIDR_IDENTICAL_HIDDEN, CIDR_NESTED, CIDR_NESTED_HIDDEN

__all__ = ["Overlap", "check_cidr_overlap"]


@dataclass(frozen=True)
class Overlap:
    """How the peer's CIDR block overlaps the requester's: ``refused``, or a warning to confirm."""

    refused: bool
    message: str


def check_cidr_overlap(local: str, peer: str, *, show_peer: bool = True) -> Overlap | None:
    """``None`` when the blocks are disjoint (or unknown); else the refusal or the warning.

    Symmetric in ``local`` and ``peer``; with ``show_peer`` false the message never shows the
    peer's block (the requester is not a member of the peer tenant).
    """
    try:
        local_net = ipaddress.ip_network(local, strict=False)
        peer_net = ipaddress.ip_network(peer, strict=False)
    except ValueError:
        return None
    if local_net.version != peer_net.version or not local_net.overlaps(peer_net):
        return None
    if local_net == peer_net:
        message = CIDR_IDENTICAL if show_peer else CIDR_IDENTICAL_HIDDEN
        return Overlap(refused=True, message=message.format(local=local_net))
    if not show_peer:
        return Overlap(refused=False, message=CIDR_NESTED_HIDDEN.format(local=local_net))
    outer, inner = (peer_net, local_net) if local_net.subnet_of(peer_net) else (local_net, peer_net)
    return Overlap(refused=False, message=CIDR_NESTED.format(outer=outer, inner=inner))
