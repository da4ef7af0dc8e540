"""The self-service pages: thin views over tenant-scoped reads and the workflow.

Every page needs a signed-in user. Peerings are fetched through
``Peering.objects.visible_to(user)``, so another tenant's peering answers 404 on every
URL. A change is a POST that calls :mod:`peerings.workflow` with
``source=ChangeSource.USER``; its exceptions become form errors (``RequestInvalid``) or
messages. Views never call the cloud client; the VPC select reads through
:func:`peerings.selectors.tenant_vpcs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import ListView, TemplateView

from peerings import selectors, workflow
from peerings.choices import ChangeSource, PeeringStatus, Role
from peerings.exceptions import CloudError, CloudUnavailable, PortalError, RequestInvalid
from peerings.filtersets import PeeringFilterSet, with_created
from peerings.models import Membership, Peering, StatusChange, Tenant, UpstreamCall
from peerings.page_forms import AcceptForm, PeeringEditForm, PeeringRequestForm, RejectForm

__all__ = [
    "DashboardView",
    "PeeringAcceptView",
    "PeeringDeleteView",
    "PeeringDetailView",
    "PeeringEditView",
    "PeeringListView",
    "PeeringRefreshView",
    "PeeringRejectView",
    "PeeringRequestView",
    "add_request_errors",
    "describe_cloud_error",
]

S = PeeringStatus
PAGE_SIZE = 25
DASHBOARD_RECENT = 10
_GONE = frozenset({S.DELETED, S.FAILED})


def describe_cloud_error(exc: CloudError) -> str:
    """A sentence for the user with the cloud's code and message."""
    code = exc.code or (f"HTTP {exc.status}" if exc.status else "no answer")
    if isinstance(exc, CloudUnavailable):
        text = f"The cloud's VPC API is unavailable ({code}): {exc.message}"
        if exc.outcome_unknown:
            return f"{text} The outcome is unknown: refresh the peering before trying again."
        return f"{text} Try again later."
    return f"The cloud refused the request ({code}): {exc.message}"


def add_request_errors(form: forms.Form, exc: RequestInvalid) -> None:
    """Put each of the workflow's messages on its field (``__all__`` or unknown: the whole form)."""
    for field, errors in exc.errors.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


def _peerings(user: Any) -> QuerySet[Peering]:
    """The user's tenants' peerings, with what the tables show in the same query."""
    return Peering.objects.visible_to(user).select_related(
        "requester_tenant", "accepter_tenant", "requested_by", "decided_by"
    )


# --- Reads -----------------------------------------------------------------------------------------


class DashboardView(LoginRequiredMixin, TemplateView):
    """The user's tenants and role, peerings waiting for their decision, recent peerings."""

    template_name = "peerings/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        memberships = list(
            Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__name")
        )
        approves = [m.tenant_id for m in memberships if m.role == Role.APPROVER]
        waiting = (
            _peerings(user)
            .filter(status=S.PENDING_ACCEPTANCE, accepter_tenant_id__in=approves)
            .order_by("created_at", "id")
        )
        return super().get_context_data(
            memberships=memberships,
            is_approver=bool(approves),
            waiting=list(waiting),
            recent=list(_peerings(user)[:DASHBOARD_RECENT]),
            **kwargs,
        )


class PeeringListView(LoginRequiredMixin, ListView):
    """All the user's tenants' peerings, filtered with the API's FilterSet, paginated."""

    template_name = "peerings/peering_list.html"
    context_object_name = "peerings"
    paginate_by = PAGE_SIZE

    @cached_property
    def filterset(self) -> PeeringFilterSet:
        queryset = with_created(_peerings(self.request.user)).order_by("-created_at", "-id")
        filterset = PeeringFilterSet(self.request.GET or None, queryset=queryset, request=self.request)
        # The API's filters, presented for people: checkboxes, and a select of the user's tenants.
        fields = filterset.form.fields
        for field in fields.values():
            field.help_text = ""
        fields["status"].widget = forms.CheckboxSelectMultiple(choices=fields["status"].choices)
        fields["direction"].label = "Direction"
        fields["direction"].empty_label = "Any direction"
        fields["direction"].widget.choices = list(fields["direction"].choices)
        tenants = selectors.user_tenants(self.request.user).order_by("name")
        fields["tenant"].label = "Tenant"
        fields["tenant"].widget = forms.Select(
            choices=[("", "Any of my tenants"), *((str(t.pk), t.name) for t in tenants)]
        )
        return filterset

    def get_queryset(self) -> QuerySet[Peering]:
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        mine = set(Membership.objects.filter(user=self.request.user).values_list("tenant_id", flat=True))
        return super().get_context_data(filter_form=self.filterset.form, my_tenant_ids=mine, **kwargs)


# --- The request form ---------------------------------------------------------------------------


class PeeringRequestView(LoginRequiredMixin, View):
    """Request a peering; the requester VPC is picked from the tenant's VPCs in the cloud."""

    template_name = "peerings/peering_form.html"

    @cached_property
    def tenants(self) -> QuerySet[Tenant]:
        return selectors.user_tenants(self.request.user).order_by("name")

    def _tenant(self, pk: Any) -> Tenant | None:
        """The chosen tenant among the user's (``?tenant=`` or the posted one), else the first."""
        tenants = list(self.tenants)
        chosen = next((t for t in tenants if str(t.pk) == str(pk)), None)
        return chosen or (tenants[0] if tenants else None)

    def _vpcs(self, tenant: Tenant | None) -> tuple[list[dict], str]:
        """The tenant's VPCs from the cloud, and the error to show when it cannot list them."""
        if tenant is None:
            return [], ""
        try:
            return selectors.tenant_vpcs(tenant=tenant, acting_user=self.request.user), ""
        except CloudError as exc:
            return [], f"The VPCs of {tenant.name} could not be listed. {describe_cloud_error(exc)}"
        except PortalError as exc:
            return [], exc.message

    def _render(self, form: PeeringRequestForm, tenant: Tenant | None, **context: Any) -> HttpResponse:
        vpcs, vpc_error = self._vpcs(tenant)
        form.set_vpcs(vpcs)
        context = {"form": form, "tenant": tenant, "vpcs": vpcs, "vpc_error": vpc_error, **context}
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest) -> HttpResponse:
        tenant = self._tenant(request.GET.get("tenant"))
        form = PeeringRequestForm(tenants=self.tenants, initial={"tenant": tenant})
        return self._render(form, tenant)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PeeringRequestForm(request.POST, tenants=self.tenants)
        if not form.is_valid():
            return self._render(form, self._tenant(request.POST.get("tenant")))
        data = form.cleaned_data
        tenant = data["tenant"]
        started = timezone.now()
        try:
            peering = workflow.peering_request(
                tenant=tenant,
                acting_user=request.user,
                name=data["name"],
                description=data["description"],
                request_vpc_id=data["request_vpc_id"],
                accept_vpc_id=data["accept_vpc_id"],
                accept_project_id=data["accept_project_id"] or None,
                confirm_overlap=data["confirm_overlap"],
                source=ChangeSource.USER,
            )
        except RequestInvalid as exc:
            add_request_errors(form, exc)
            form.needs_confirmation = exc.needs_confirmation
            return self._render(form, tenant)
        except CloudError as exc:
            kept = (
                Peering.objects.filter(
                    requester_tenant=tenant,
                    requested_by=request.user,
                    created_at__gte=started,
                    name=data["name"],
                )
                .order_by("-created_at", "-id")
                .first()
            )
            return self._render(form, tenant, cloud_error=describe_cloud_error(exc), kept=kept)
        except PortalError as exc:
            form.add_error(None, exc.message)
            return self._render(form, tenant)
        messages.success(
            request, f"Peering “{peering.name}” requested: it is {peering.get_status_display()}."
        )
        return redirect("peerings:detail", pk=peering.pk)


# --- One peering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    """The actions the page offers, from the user's roles and the status (the workflow decides)."""

    accept: bool
    reject: bool
    edit: bool
    refresh: bool
    delete: bool

    @property
    def any(self) -> bool:
        return self.accept or self.reject or self.edit or self.refresh or self.delete


def allowed_actions(peering: Peering, roles: dict[int, str]) -> Allowed:
    """What a user with ``roles`` (tenant id -> role) may do with ``peering`` now."""
    member = peering.requester_tenant_id in roles or peering.accepter_tenant_id in roles
    decides = (
        roles.get(peering.accepter_tenant_id) == Role.APPROVER
        and peering.status == S.PENDING_ACCEPTANCE
        and bool(peering.upstream_id)
    )
    live = member and peering.status not in _GONE
    return Allowed(
        accept=decides,
        reject=decides,
        edit=live and bool(peering.upstream_id),
        refresh=live,
        delete=live,
    )


class PeeringMixin(LoginRequiredMixin):
    """Fetches the peering of the URL among the user's tenants' peerings (404 otherwise)."""

    request: HttpRequest

    def get_peering(self, pk: int) -> Peering:
        return get_object_or_404(_peerings(self.request.user), pk=pk)

    def roles(self, peering: Peering) -> dict[int, str]:
        tenants = [t for t in (peering.requester_tenant_id, peering.accepter_tenant_id) if t is not None]
        found = Membership.objects.filter(user=self.request.user, tenant_id__in=tenants)
        return dict(found.values_list("tenant_id", "role"))

    def render_detail(self, peering: Peering, **forms_: Any) -> HttpResponse:
        changes = StatusChange.objects.filter(peering=peering).select_related("actor")
        calls = UpstreamCall.objects.filter(peering=peering).select_related("acting_user", "tenant")
        context = {
            "peering": peering,
            "allowed": allowed_actions(peering, self.roles(peering)),
            "status_changes": changes.order_by("-created_at", "-id"),
            "calls": calls.order_by("-created_at", "-id"),
            "accept_form": forms_.get("accept_form") or AcceptForm(prefix="accept"),
            "reject_form": forms_.get("reject_form") or RejectForm(prefix="reject"),
        }
        return render(self.request, "peerings/peering_detail.html", context)

    def back(self, peering: Peering) -> HttpResponseRedirect:
        return redirect("peerings:detail", pk=peering.pk)


class PeeringDetailView(PeeringMixin, View):
    """The mirror, its decision, error, status history and cloud calls, and the allowed actions."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_detail(self.get_peering(pk))


class PeeringActionView(PeeringMixin, View):
    """A POST that runs one workflow action, then redirects to the peering with a message."""

    http_method_names = ["post"]
    done = ""

    def run(self, peering: Peering) -> Peering | HttpResponse:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        peering = self.get_peering(pk)
        try:
            result = self.run(peering)
        except CloudError as exc:
            messages.error(request, describe_cloud_error(exc))
        except PortalError as exc:
            messages.error(request, exc.message)
        else:
            if isinstance(result, HttpResponse):
                return result
            messages.success(request, f"{self.done} It is {result.get_status_display()}.")
        return self.back(peering)


class PeeringAcceptView(PeeringActionView):
    done = "Peering accepted."

    def run(self, peering: Peering) -> Peering | HttpResponse:
        form = AcceptForm(self.request.POST, prefix="accept")
        if not form.is_valid():
            return self.render_detail(peering, accept_form=form)
        reason = form.cleaned_data["reason"]
        return workflow.peering_accept(
            peering=peering, acting_user=self.request.user, reason=reason, source=ChangeSource.USER
        )


class PeeringRejectView(PeeringActionView):
    done = "Peering rejected."

    def run(self, peering: Peering) -> Peering | HttpResponse:
        form = RejectForm(self.request.POST, prefix="reject")
        if not form.is_valid():
            return self.render_detail(peering, reject_form=form)
        reason = form.cleaned_data["reason"]
        return workflow.peering_reject(
            peering=peering, acting_user=self.request.user, reason=reason, source=ChangeSource.USER
        )


class PeeringRefreshView(PeeringActionView):
    done = "Peering refreshed from the cloud."

    def run(self, peering: Peering) -> Peering:
        return workflow.peering_refresh(
            peering=peering, acting_user=self.request.user, source=ChangeSource.USER
        )


class PeeringDeleteView(PeeringActionView):
    """GET asks for confirmation; POST deletes the peering in the cloud."""

    http_method_names = ["get", "post"]
    done = "Peering deleted."

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        peering = self.get_peering(pk)
        allowed = allowed_actions(peering, self.roles(peering))
        return render(
            request, "peerings/peering_confirm_delete.html", {"peering": peering, "allowed": allowed}
        )

    def run(self, peering: Peering) -> Peering:
        return workflow.peering_delete(
            peering=peering, acting_user=self.request.user, source=ChangeSource.USER
        )


class PeeringEditView(PeeringMixin, View):
    """Rename a peering or change its description; only the changed fields are sent."""

    template_name = "peerings/peering_edit.html"

    def _render(self, peering: Peering, form: PeeringEditForm, **context: Any) -> HttpResponse:
        allowed = allowed_actions(peering, self.roles(peering))
        context = {"peering": peering, "form": form, "allowed": allowed, **context}
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        peering = self.get_peering(pk)
        form = PeeringEditForm(initial={"name": peering.name, "description": peering.description})
        return self._render(peering, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        peering = self.get_peering(pk)
        form = PeeringEditForm(
            request.POST, initial={"name": peering.name, "description": peering.description}
        )
        if not form.is_valid():
            return self._render(peering, form)
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        try:
            peering = workflow.peering_update(
                peering=peering, acting_user=request.user, source=ChangeSource.USER, **changes
            )
        except RequestInvalid as exc:
            add_request_errors(form, exc)
            return self._render(peering, form)
        except CloudError as exc:
            return self._render(peering, form, cloud_error=describe_cloud_error(exc))
        except PortalError as exc:
            messages.error(request, exc.message)
            return self.back(peering)
        messages.success(request, f"Peering “{peering.name}” updated.")
        return self.back(peering)
