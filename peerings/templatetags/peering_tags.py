"""Template tags of the pages and the admin: a VPC by name and range beside its id, a time."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from peerings import permissions, selectors
from peerings.models import Peering

register = template.Library()


def viewer_tenant_ids(request: Any) -> set[int]:
    """The signed-in user's tenant ids, read once per request."""
    if request is None:
        return set()
    return set(selectors.request_roles(request))


def vpc_html(peering: Peering, side: str, tenant_ids: set[int], *, short: bool = False) -> str:
    """``name cidr id`` of one side's VPC; the range only where permissions allow it."""
    vpc_id = str(getattr(peering, f"{side}_vpc_id"))
    name = getattr(peering, f"{side}_vpc_name", "") or ""
    cidr = getattr(peering, f"{side}_vpc_cidr", "") or ""
    if not permissions.peering_cidr_shown(peering, side, tenant_ids):
        cidr = ""
    shown_id = vpc_id[:8] if short else vpc_id
    return format_html(
        '<span class="vpc">{}{}<code class="muted" title="{}">{}</code></span>',
        format_html("<strong>{}</strong> ", name) if name else "VPC ",
        format_html('<span class="cidr">{}</span> ', cidr) if cidr else "",
        vpc_id,
        shown_id,
    )


@register.simple_tag(takes_context=True)
def vpc(context: template.Context, peering: Peering, side: str, short: bool = False) -> str:
    """``{% vpc peering "accepter" %}``: the VPC's name and range (if the viewer may see it) and id."""
    return vpc_html(peering, side, viewer_tenant_ids(context.get("request")), short=short)
