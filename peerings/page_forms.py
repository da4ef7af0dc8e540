"""Forms of the self-service pages. They check shape only; the workflow checks the rules.

Field names match the workflow's ``RequestInvalid`` keys, so a view can put each of
its messages on the field it concerns (``add_error``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet

from peerings.models import Tenant
from peerings.permissions import Action
from peerings.rules.decisions import needs_reason, reason_problem
from peerings.rules.limits import (
    CLOUD_ID_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
)
from peerings.rules.messages import NAME_REQUIRED, REASON_REQUIRED

__all__ = ["DecisionForm", "PeeringEditForm", "PeeringRequestForm", "vpc_label"]

DESCRIPTION_HELP = f"Optional; at most {DESCRIPTION_MAX_LENGTH} characters, without < or >."


def vpc_label(vpc: dict) -> str:
    """How a VPC reads in a select: its name and CIDR block."""
    return f"{vpc.get('name') or vpc.get('id')} — {vpc.get('cidr') or 'no CIDR'}"


class UncutCharField(forms.CharField):
    """A text field without the browser's ``maxlength``: text pasted over the limit is kept and
    refused with the portal's message, never cut short without a word."""

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


def _name_field() -> forms.CharField:
    return UncutCharField(
        max_length=NAME_MAX_LENGTH,
        error_messages={"required": NAME_REQUIRED},
        help_text=f"At most {NAME_MAX_LENGTH} characters.",
    )


def _description_field() -> forms.CharField:
    return UncutCharField(
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=DESCRIPTION_HELP,
    )


class PeeringRequestForm(forms.Form):
    """A new peering from one of the user's tenants' VPCs (chosen from the cloud's list)."""

    tenant = forms.ModelChoiceField(
        queryset=Tenant.objects.none(),
        empty_label=None,
        # portal.js reloads the page with ?tenant=<id> on change, to list that tenant's VPCs.
        widget=forms.Select(attrs={"data-reload": "tenant"}),
        help_text="The tenant that requests the peering; choosing another one lists its VPCs.",
    )
    peer_tenant = forms.ModelChoiceField(
        queryset=Tenant.objects.none(),
        required=False,
        label="Peer tenant",
        empty_label="Another project (type its ids below)",
        # portal.js reloads the page with what was typed and ?peer_tenant=<id>, to list its VPCs.
        widget=forms.Select(attrs={"data-reload": "peer_tenant"}),
        help_text=(
            "The tenant whose VPC to peer with, among those the portal knows; choosing one fills its "
            "project id and lists its VPCs (their address ranges only if you are a member of it)."
        ),
    )
    request_vpc_id = forms.CharField(
        label="Your VPC",
        widget=forms.Select,
        error_messages={"required": "Choose one of your tenant's VPCs."},
    )
    accept_vpc_id = forms.CharField(
        label="Peer VPC id",
        max_length=CLOUD_ID_MAX_LENGTH,
        widget=forms.TextInput(attrs={"list": "peer-vpcs", "autocomplete": "off", "spellcheck": "false"}),
        help_text=(
            "The id (a UUID) of the VPC to peer with: another of your VPCs or another tenant's; "
            "pick it from the list or type it."
        ),
    )
    accept_project_id = forms.CharField(
        label="Peer project id",
        required=False,
        max_length=CLOUD_ID_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Only when the peer VPC belongs to another tenant's project (32 hexadecimal characters).",
    )
    name = _name_field()
    description = _description_field()
    confirm_overlap = forms.BooleanField(
        label="I understand the overlap; request the peering anyway",
        required=False,
    )
    routes_on_accept = forms.BooleanField(
        label="Add the routes on both sides once it is accepted",
        required=False,
        help_text="Each VPC gets a route to the other's range, added by the portal with each side's keys.",
    )

    def __init__(
        self,
        *args: Any,
        tenants: QuerySet[Tenant],
        peer_tenants: QuerySet[Tenant] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        peer_field = self.fields["peer_tenant"]
        peer_field.queryset = peer_tenants if peer_tenants is not None else Tenant.objects.none()
        peer_field.label_from_instance = lambda tenant: f"{tenant.name} ({tenant.project_id})"
        self.needs_confirmation = False
        tenant_field = self.fields["tenant"]
        tenant_field.queryset = tenants
        if len(tenant_field.queryset) < 2:
            tenant_field.widget = forms.HiddenInput()
        self.set_vpcs(())

    def set_vpcs(self, vpcs: Iterable[dict]) -> None:
        """Fill the requester VPC select from the cloud's list of the tenant's VPCs."""
        choices = [(str(vpc.get("id")), vpc_label(vpc)) for vpc in vpcs]
        self.fields["request_vpc_id"].widget.choices = [("", "Choose a VPC…"), *choices]

    @property
    def problems(self) -> list[dict[str, str]]:
        """Every error but the overlap warning, for the summary at the top of the page:
        ``{"message", "label", "id"}`` (no label nor id for an error of the whole form)."""
        found = [{"message": str(error), "label": "", "id": ""} for error in self.non_field_errors()]
        for field in self:
            if field.name == "confirm_overlap":
                continue
            for error in field.errors:
                found.append({"message": str(error), "label": str(field.label), "id": field.id_for_label})
        return found

    @property
    def show_confirmation(self) -> bool:
        """Whether the overlap checkbox is shown: after a warning, or once it was ticked."""
        return self.needs_confirmation or bool(self.is_bound and self.data.get("confirm_overlap"))


class PeeringEditForm(forms.Form):
    """A new name or description; only the fields the user changed are sent."""

    name = _name_field()
    description = _description_field()


class DecisionForm(forms.Form):
    """The reason for an accept or approval (optional), a reject or decline (required)."""

    reason = forms.CharField(max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, action: Action, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix=str(action), **kwargs)
        reason = self.fields["reason"]
        reason.required = needs_reason(action)
        reason.label = "Reason" if reason.required else "Reason (optional)"
        reason.error_messages["required"] = reason_problem(action, "") or REASON_REQUIRED

    def fields_keys(self) -> list[str]:
        """The posted names of the form's fields (with their prefix)."""
        return [self.add_prefix(name) for name in self.fields]


class BulkDecisionForm(forms.Form):
    """The approver's queue: one decision and one reason for the selected peerings.

    "Accept" approves a request held for approval in the portal; "Reject" declines it.
    """

    action = forms.ChoiceField(
        choices=[(Action.ACCEPT, "Accept (or approve)"), (Action.REJECT, "Reject (or decline)")]
    )
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        required=False,
        label="Reason (required to reject)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    peerings = forms.TypedMultipleChoiceField(coerce=int, error_messages={"required": "Select a peering."})

    def __init__(self, *args: Any, choices: Iterable[int] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["peerings"].choices = [(pk, str(pk)) for pk in choices]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        problem = reason_problem(data.get("action") or "", data.get("reason"))
        if problem:
            self.add_error("reason", problem)
        return data
