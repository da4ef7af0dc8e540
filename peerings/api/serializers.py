"""Input and output shapes of the REST API; peerings use the cloud's field names.

Output serializers only read; input serializers only check shapes and resolve
the caller's tenant. Every rule about peerings is the workflow's.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from peerings import leases, permissions, selectors
from peerings.choices import CallOperation, ChangeSource, PeeringStatus, Role
from peerings.models import Peering, StatusChange, Tenant, UpstreamCall
from peerings.permissions import Action
from peerings.rules.decisions import reason_problem
from peerings.rules.limits import (
    CLOUD_ID_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
)
from peerings.rules.messages import DECLINE_REASON_REQUIRED, NOT_A_TENANT_MEMBER, UPDATE_NOTHING
from peerings.validation import validate_description, validate_name, validate_project_id

#: A number that stands for the primary key while a link's template is reversed.
_PK_MARK = 987654321987654321


def link(context: dict[str, Any], view_name: str, pk: Any) -> str:
    """The absolute URL of ``view_name`` for ``pk``: reversed once per response, then filled in.

    ``reverse`` (URL resolver, then the request's host) cost about as much as the rest of a
    row; a page of 50 peerings made 150 of them. The template is kept in the serializer's
    context, which lives as long as one response.
    """
    templates = context.setdefault("_link_templates", {})
    template = templates.get(view_name)
    if template is None:
        template = templates[view_name] = reverse(view_name, args=[_PK_MARK], request=context.get("request"))
    return template.replace(str(_PK_MARK), str(pk))


class LinkField(serializers.HyperlinkedIdentityField):
    """``HyperlinkedIdentityField`` (same schema) whose URL comes from :func:`link`."""

    def get_url(self, obj: Any, view_name: str, request: Any, format: str | None) -> str | None:
        if obj.pk is None or format:
            return super().get_url(obj, view_name, request, format)
        return link(self.context, view_name, obj.pk)


class FieldsBuiltOnce:
    """A read-only serializer whose fields are built once per class, then copied for each use.

    DRF builds a ModelSerializer's fields anew for every serializer (every response, and the
    child of every list): from the model's metadata, then deep copies of the declared ones. For
    output-only serializers they are the same each time, so a process builds them once and each
    serializer gets shallow copies, unbound, to bind as DRF does. Nothing in them is per request.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        built = cls.__dict__.get("_fields_built")
        if built is None:
            built = super().get_fields()  # type: ignore[misc]
            cls._fields_built = built
        return {name: copy.copy(field) for name, field in built.items()}


__all__ = [
    "DirectoryTenantSerializer",
    "ErrorSerializer",
    "FieldsBuiltOnce",
    "LinkField",
    "PeerVpcSerializer",
    "PeeringAcceptSerializer",
    "PeeringCreateSerializer",
    "PeeringDeclineSerializer",
    "PeeringRejectSerializer",
    "PeeringSerializer",
    "PeeringUpdateSerializer",
    "StatusChangeSerializer",
    "TenantSerializer",
    "UpstreamCallSerializer",
    "VpcSerializer",
]

# --- Errors (documentation only: the exception handler writes them) ---------------------


class CharField(serializers.CharField):
    """A ``CharField`` that reports one message per error: the first validator that fails.

    DRF runs every validator and reports each failure, so a 65-character name was refused
    twice (the portal's own rule and DRF's ``max_length``); the portal's rule comes first.
    """

    def run_validators(self, value: Any) -> None:
        try:
            super().run_validators(value)
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, list) else [exc.detail]
            raise serializers.ValidationError(detail[:1]) from None


class CloudErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField(allow_null=True, help_text="The cloud's HTTP status; null without one.")
    code = CharField(allow_blank=True, help_text="The cloud's error code, e.g. InvalidInput.")
    message = CharField(allow_blank=True, help_text="The cloud's error message.")


class KeptPeeringSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The peering's portal id.")
    url = serializers.URLField(help_text="Its URL: GET it, POST …/refresh/ to it.")
    status = serializers.ChoiceField(choices=PeeringStatus.choices)


class ErrorDetailSerializer(serializers.Serializer):
    """What went wrong."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # ``fields`` is also a serializer attribute, so the fields are built here.
        return {
            "code": CharField(help_text="Machine-readable, e.g. invalid, not_found, cloud_refused."),
            "message": CharField(help_text="Human-readable summary."),
            "fields": serializers.DictField(
                child=serializers.ListField(child=CharField()),
                required=False,
                help_text='Messages per input field; nested fields are dotted ("accept_vpc_info.vpc_id").',
            ),
            "cloud": CloudErrorSerializer(required=False, help_text="What the cloud answered, when it did."),
            "peering": KeptPeeringSerializer(
                required=False,
                help_text="The peering the portal kept or found: a request saved as SUBMITTING, or the "
                "status another decision gave it.",
            ),
        }


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# --- Tenants and VPCs ------------------------------------------------------------------


class TenantSerializer(serializers.ModelSerializer):
    """A tenant the caller belongs to, with the caller's role; never its keys."""

    url = LinkField(view_name="api:tenant-detail")
    role = serializers.ChoiceField(choices=Role.choices, read_only=True, help_text="The caller's role.")
    vpcs = LinkField(view_name="api:tenant-vpcs")

    class Meta:
        model = Tenant
        fields = ["id", "url", "name", "project_id", "region", "role", "vpcs"]
        read_only_fields = fields


class VpcSerializer(serializers.Serializer):
    """A VPC as the cloud lists it."""

    id = CharField(read_only=True)
    name = CharField(read_only=True, default="")
    cidr = CharField(read_only=True, default="")
    status = CharField(read_only=True, default="")
    description = CharField(read_only=True, default="")


class DirectoryTenantSerializer(serializers.ModelSerializer):
    """A tenant of the portal as the request form offers it as a peer: name and ids, never keys."""

    url = LinkField(view_name="api:directory-detail")
    vpcs = LinkField(view_name="api:directory-vpcs")
    member = serializers.SerializerMethodField(help_text="Whether the caller is a member of this tenant.")

    class Meta:
        model = Tenant
        fields = ["id", "url", "name", "project_id", "member", "vpcs"]
        read_only_fields = fields

    def get_member(self, tenant: Tenant) -> bool:
        return tenant.pk in _actor(self.context).roles


class PeerVpcSerializer(serializers.Serializer):
    """A VPC as the request form offers it: name and id; the range only to the tenant's members."""

    id = CharField(read_only=True)
    name = CharField(read_only=True, default="")
    cidr = CharField(
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The VPC's range; null unless the caller is a member of its tenant.",
    )


# --- Peerings ----------------------------------------------------------------------------


def _actor(context: dict[str, Any]) -> permissions.Actor:
    """The caller's roles, read once per response and shared by every row."""
    actor = context.get("actor")
    if actor is None:
        request = context["request"]
        actor = context["actor"] = permissions.Actor.of(request.user, roles=selectors.request_roles(request))
    return actor


class _VpcInfoSerializer(serializers.Serializer):
    """One side of a peering, named as the pages name it (range only where the caller may see it)."""

    side: str

    def to_representation(self, peering: Peering) -> dict[str, Any]:
        side = self.side
        tenant = getattr(peering, f"{side}_tenant")
        shown = permissions.peering_cidr_shown(peering, side, _actor(self.context).roles)
        return {
            "vpc_id": str(getattr(peering, f"{side}_vpc_id")),
            "tenant_id": getattr(peering, f"{side}_project_id"),
            "vpc_name": getattr(peering, f"{side}_vpc_name") or None,
            "cidr": (getattr(peering, f"{side}_vpc_cidr") or None) if shown else None,
            "tenant": {"id": tenant.pk, "name": tenant.name} if tenant is not None else None,
        }


class TenantRefSerializer(serializers.Serializer):
    """A tenant of the portal by id and name."""

    id = serializers.IntegerField(read_only=True)
    name = CharField(read_only=True)


def _vpc_info_fields(role: str) -> dict[str, serializers.Field]:
    return {
        "vpc_id": serializers.UUIDField(read_only=True),
        "tenant_id": CharField(read_only=True, help_text=f"The {role}'s project id."),
        "vpc_name": CharField(
            read_only=True, allow_null=True, help_text="The VPC's name, as the cloud listed it."
        ),
        "cidr": CharField(
            read_only=True,
            allow_null=True,
            help_text="The VPC's range; null where the caller may not see it (the accepter's range is shown "
            "to the accepter's members only).",
        ),
        "tenant": TenantRefSerializer(
            read_only=True, allow_null=True, help_text=f"The {role}'s tenant in the portal; null outside it."
        ),
    }


class RequestVpcInfoSerializer(_VpcInfoSerializer):
    side = "requester"

    def get_fields(self) -> dict[str, serializers.Field]:
        return _vpc_info_fields("requester")


class AcceptVpcInfoSerializer(_VpcInfoSerializer):
    side = "accepter"

    def get_fields(self) -> dict[str, serializers.Field]:
        return _vpc_info_fields("accepter")


class PeeringErrorSerializer(serializers.Serializer):
    code = CharField(source="error_code", read_only=True, allow_blank=True)
    message = CharField(source="error_message", read_only=True, allow_blank=True)


class PeeringHistoryLinksSerializer(serializers.Serializer):
    calls = serializers.URLField(read_only=True, help_text="The cloud calls made for this peering.")
    status_changes = serializers.URLField(read_only=True, help_text="This peering's status changes.")


class PeeringSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """A peering: the cloud's fields beside the portal's own."""

    url = LinkField(view_name="api:peering-detail")
    peering_id = CharField(
        source="upstream_id", read_only=True, allow_null=True, help_text="The cloud's id; null until created."
    )
    status = serializers.ChoiceField(choices=PeeringStatus.choices, read_only=True)
    request_vpc_info = RequestVpcInfoSerializer(source="*", read_only=True)
    accept_vpc_info = AcceptVpcInfoSerializer(source="*", read_only=True)
    # One pair of timestamps (the cloud's field names; see the README's "Timestamps").
    created_at = serializers.DateTimeField(
        source="created_time",
        read_only=True,
        help_text="When it was created: the cloud's time, or the portal's until the cloud has one "
        "(what ordering=created_at and created_after/created_before use).",
    )
    updated_at = serializers.DateTimeField(
        source="updated_time",
        read_only=True,
        help_text="When it last changed, in the cloud or in the portal (the later of the two).",
    )
    requested_by = CharField(source="requested_by.username", read_only=True, allow_null=True)
    decided_by = CharField(source="decided_by.username", read_only=True, allow_null=True)
    approved_by = CharField(
        source="approved_by.username",
        read_only=True,
        allow_null=True,
        help_text="Who approved it in the portal (null when a rule did, or no approval was needed).",
    )
    error = serializers.SerializerMethodField(help_text="Why the cloud refused it; set when FAILED.")
    history = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField(
        help_text="What the caller may do to this peering now (POST …/accept/, …/reject/, …/approve/, "
        "…/decline/, PATCH, …/refresh/, DELETE, POST …/routes/ and DELETE …/routes/{route_id}/ for the sides "
        "the caller belongs to); empty while another operation is in flight."
    )
    operation_in_flight = serializers.SerializerMethodField(
        help_text="The operation waiting for the cloud (create, accept, reject, update, delete, routes), "
        "or null."
    )

    class Meta:
        model = Peering
        fields = [
            "id",
            "url",
            "peering_id",
            "name",
            "description",
            "status",
            "request_vpc_info",
            "accept_vpc_info",
            "created_at",
            "updated_at",
            "requested_by",
            "decided_by",
            "decision_reason",
            "decided_at",
            "approved_by",
            "approved_at",
            "approval_reason",
            "error",
            "history",
            "allowed_actions",
            "operation_in_flight",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=[a.value for a in Action]))
    )
    def get_allowed_actions(self, peering: Peering) -> list[str]:
        actor = _actor(self.context)  # one query per request, shared by every row of a list
        return sorted(permissions.allowed_actions(peering, actor, now=self.context.get("now")))

    @extend_schema_field(CharField(allow_null=True))
    def get_operation_in_flight(self, peering: Peering) -> str | None:
        return peering.inflight_operation if leases.held(peering, self.context.get("now")) else None

    @extend_schema_field(PeeringErrorSerializer(allow_null=True))
    def get_error(self, peering: Peering) -> dict[str, str] | None:
        if peering.status != PeeringStatus.FAILED:
            return None
        return PeeringErrorSerializer(peering).data

    @extend_schema_field(PeeringHistoryLinksSerializer)
    def get_history(self, peering: Peering) -> dict[str, str]:
        return {
            "calls": link(self.context, "api:peering-calls", peering.pk),
            "status_changes": link(self.context, "api:peering-status-changes", peering.pk),
        }


class VpcInfoInputSerializer(serializers.Serializer):
    vpc_id = serializers.UUIDField()


class RequestVpcInfoInputSerializer(VpcInfoInputSerializer):
    class Meta:
        ref_name = "RequestVpcInfo"  # "RequestVpcInfoRequest" in the schema (request side)

    tenant_id = CharField(
        required=False,
        allow_blank=True,
        max_length=CLOUD_ID_MAX_LENGTH,
        help_text="Project id of your tenant making the request; required when you belong to several.",
    )


class AcceptVpcInfoInputSerializer(VpcInfoInputSerializer):
    class Meta:
        ref_name = "AcceptVpcInfo"  # "AcceptVpcInfoRequest" in the schema (request side)

    tenant_id = CharField(
        required=False,
        allow_blank=True,
        max_length=CLOUD_ID_MAX_LENGTH,
        validators=[validate_project_id],
        help_text="Project id of the peer VPC; required when it belongs to another account.",
    )


class PeeringCreateSerializer(serializers.Serializer):
    """A peering request, in the cloud's field names, unwrapped."""

    name = CharField(max_length=NAME_MAX_LENGTH, validators=[validate_name])
    description = CharField(
        max_length=DESCRIPTION_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        validators=[validate_description],
        help_text="No < or >.",
    )
    request_vpc_info = RequestVpcInfoInputSerializer()
    accept_vpc_info = AcceptVpcInfoInputSerializer()
    confirm_overlap = serializers.BooleanField(
        required=False, default=False, help_text="Go ahead although the two VPCs' CIDRs overlap in part."
    )
    routes_on_accept = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Once accepted, add each side's route to the other's range automatically (a job per side, "
        "with that side's keys).",
    )

    def validate_request_vpc_info(self, value: dict[str, Any]) -> dict[str, Any]:
        """Resolve the caller's tenant from ``tenant_id`` (a project id) or their only membership."""
        user = self.context["request"].user
        tenants = selectors.user_tenants(user)
        project_id = value.get("tenant_id") or ""
        if project_id:
            tenant = tenants.filter(project_id=project_id).first()
            if tenant is None:
                raise serializers.ValidationError({"tenant_id": [NOT_A_TENANT_MEMBER]})
        else:
            found = list(tenants[:2])
            if not found:
                raise serializers.ValidationError({"tenant_id": ["You are not a member of any tenant."]})
            if len(found) > 1:
                raise serializers.ValidationError(
                    {"tenant_id": ["You belong to several tenants: give the project id of one."]}
                )
            tenant = found[0]
        return {**value, "tenant": tenant}


class PeeringUpdateSerializer(serializers.Serializer):
    """A rename: name, description or both (the only fields the cloud lets change)."""

    name = CharField(max_length=NAME_MAX_LENGTH, required=False, validators=[validate_name])
    description = CharField(
        max_length=DESCRIPTION_MAX_LENGTH,
        required=False,
        allow_blank=True,
        validators=[validate_description],
        help_text="No < or >.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(UPDATE_NOTHING)
        return attrs


class _DecisionSerializer(serializers.Serializer):
    """A decision's reason, checked by the one rule of which decisions need one."""

    action: ClassVar[str]

    def validate_reason(self, value: str) -> str:
        problem = reason_problem(self.action, value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class PeeringAcceptSerializer(_DecisionSerializer):
    action = "accept"
    reason = CharField(max_length=REASON_MAX_LENGTH, required=False, allow_blank=True, default="")


class PeeringRejectSerializer(_DecisionSerializer):
    action = "reject"
    reason = CharField(max_length=REASON_MAX_LENGTH, help_text="Why the request is rejected.")


class PeeringDeclineSerializer(_DecisionSerializer):
    action = "decline"
    reason = CharField(
        max_length=REASON_MAX_LENGTH,
        help_text="Why the request is declined (the requester reads it).",
        error_messages={"required": DECLINE_REASON_REQUIRED, "blank": DECLINE_REASON_REQUIRED},
    )


# --- History -----------------------------------------------------------------------------


class TenantBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["id", "name", "project_id"]
        read_only_fields = fields


_HIDDEN_HELP = {
    "url": "The URL called; without its query when the call was signed with the other side's keys.",
    "body": "Null when the call was signed with the other side's keys (details_hidden).",
    "text": "Empty when the call was signed with the other side's keys (details_hidden).",
}


class UpstreamCallSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """One call the portal made to the cloud (append-only)."""

    acting_user = CharField(source="acting_user.username", read_only=True, allow_null=True)
    tenant = TenantBriefSerializer(read_only=True, help_text="The tenant whose keys signed the call.")
    operation = serializers.ChoiceField(choices=CallOperation.choices, read_only=True)
    # What only the signing tenant's members see, as selectors.calls_as_seen decided.
    url = CharField(source=selectors.shown("url"), read_only=True, help_text=_HIDDEN_HELP["url"])
    request_body = serializers.JSONField(
        source=selectors.shown("request_body"),
        read_only=True,
        allow_null=True,
        help_text=_HIDDEN_HELP["body"],
    )
    response_body = serializers.JSONField(
        source=selectors.shown("response_body"),
        read_only=True,
        allow_null=True,
        help_text=_HIDDEN_HELP["body"],
    )
    error_message = CharField(
        source=selectors.shown("error_message"), read_only=True, help_text=_HIDDEN_HELP["text"]
    )
    cloud_request_id = CharField(
        source=selectors.shown("cloud_request_id"), read_only=True, help_text=_HIDDEN_HELP["text"]
    )
    details_hidden = serializers.BooleanField(
        read_only=True,
        help_text="True when the call was signed with the other side's keys: its URL query, bodies, "
        "error message and cloud request id are shown to that side's members only.",
    )
    status_code = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The cloud's HTTP status; null when none came back."
    )

    class Meta:
        model = UpstreamCall
        fields = [
            "id",
            "created_at",
            "acting_user",
            "tenant",
            "peering",
            "operation",
            "method",
            "url",
            "request_body",
            "status_code",
            "response_body",
            "error_code",
            "error_message",
            "duration_ms",
            "attempts",
            "correlation_id",
            "cloud_request_id",
            "details_hidden",
        ]
        read_only_fields = fields


class StatusChangeSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """One change of a peering's status (append-only), naming its peering."""

    peering = serializers.IntegerField(
        source="peering_id", read_only=True, help_text="The peering's portal id."
    )
    peering_url = serializers.SerializerMethodField(help_text="The peering's URL in the API.")
    old_status = CharField(read_only=True, help_text="Empty for the first status.")
    new_status = serializers.ChoiceField(choices=PeeringStatus.choices, read_only=True)
    actor = CharField(source="actor.username", read_only=True, allow_null=True)
    source = serializers.ChoiceField(
        choices=ChangeSource.choices,
        read_only=True,
        help_text="Where the change came from: browser, api, admin, sync (read from the cloud) or job.",
    )

    class Meta:
        model = StatusChange
        fields = [
            "id",
            "created_at",
            "peering",
            "peering_url",
            "old_status",
            "new_status",
            "actor",
            "reason",
            "source",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField())
    def get_peering_url(self, change: StatusChange) -> str:
        return link(self.context, "api:peering-detail", change.peering_id)
