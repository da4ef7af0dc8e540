"""Destinations as people type them: CIDRs one per line, or separated by commas or spaces."""

from __future__ import annotations

from collections.abc import Mapping

from peerings.choices import RouteSide

__all__ = ["destinations_by_side", "parse_destinations"]


def parse_destinations(text: str) -> list[str]:
    """Destinations typed one per line, or separated by commas or spaces."""
    return [part for part in text.replace(",", " ").split() if part]


def destinations_by_side(params: Mapping[str, str]) -> dict[str, list[str]]:
    """``{side: destinations}`` for each side given in ``params`` (``?requester=``, ``?accepter=``)."""
    return {side: parse_destinations(params[side]) for side in RouteSide.values if params.get(side)}
