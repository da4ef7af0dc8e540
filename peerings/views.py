"""The self-service pages: thin views over tenant-scoped reads and the workflow.

Every page needs a signed-in user. Peerings are fetched through
``selectors.visible_peerings(user)``, so another tenant's peering answers 404 on every
URL. A change is a POST that calls :mod:`peerings.workflow` with
``source=ChangeSource.USER``; its exceptions become form errors (``RequestInvalid``) or
messages, as :mod:`peerings.page_errors` maps them. Views never call the cloud client; the VPC
select reads through :func:`peerings.selectors.tenant_vpcs`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import ListView, TemplateView

from peerings import access, export, export_limits, inventory, permissions, selectors, vpcs, workflow
from peerings.choices import ChangeSource, PeeringStatus, Role
from peerings.exceptions import CloudError, PortalError, RequestInvalid
from peerings.filtersets import PeeringFilterSet, with_created
from peerings.models import Peering, Tenant
from peerings.page_errors import PageErrorsMixin, add_request_errors, describe_cloud_error, error_message
from peerings.page_forms import BulkDecisionForm, DecisionForm, PeeringEditForm, PeeringRequestForm
from peerings.paginators import CappedCountPaginator
from peerings.permissions import DECISIONS, GATE, Action
from peerings.routes import selectors as route_selectors
from peerings.rules import expiry, limits

__all__ = [
    "DashboardView",
    "DecisionQueueView",
    "PeeringDecideView",
    "PeeringDeleteView",
    "PeeringDetailView",
    "PeeringEditView",
    "PeeringListView",
    "PeeringRefreshView",
    "PeeringRequestView",
]

S = PeeringStatus
DASHBOARD_RECENT = 10
DASHBOARD_WAITING = 25


# --- Reads -----------------------------------------------------------------------------------------


class DashboardView(LoginRequiredMixin, TemplateView):
    """The user's tenants and role, peerings waiting for their decision, recent peerings."""

    template_name = "peerings/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        memberships = list(selectors.user_memberships(user))
        roles = selectors.request_roles(self.request)  # shared with the navigation's count
        # The oldest first (the queue's order and index), at most DASHBOARD_WAITING; the queue has all.
        waiting = list(selectors.awaiting_decision(user, listing=True, roles=roles)[: DASHBOARD_WAITING + 1])
        return super().get_context_data(
            memberships=memberships,
            is_approver=Role.APPROVER in roles.values(),
            waiting=waiting[:DASHBOARD_WAITING],
            more_waiting=len(waiting) > DASHBOARD_WAITING,
            recent=list(selectors.visible_peerings(user, listing=True)[:DASHBOARD_RECENT]),
            **kwargs,
        )


def people_filterset(request: HttpRequest, data: Any, queryset: QuerySet[Peering]) -> PeeringFilterSet:
    """The API's filters, presented for people: status checkboxes, and a select of the user's tenants."""
    filterset = PeeringFilterSet(data, queryset=queryset, request=request)
    fields = filterset.form.fields
    for field in fields.values():
        field.help_text = ""
    fields["status"].widget = forms.CheckboxSelectMultiple(choices=fields["status"].choices)
    fields["direction"].label = "Direction"
    fields["direction"].empty_label = "Any direction"
    fields["direction"].widget.choices = list(fields["direction"].choices)
    tenants = selectors.user_tenants(request.user).values_list("pk", "name")  # no keys decrypted
    fields["tenant"].label = "Tenant"
    fields["tenant"].widget = forms.Select(
        choices=[("", "Any of my tenants"), *((str(pk), name) for pk, name in tenants)]
    )
    return filterset


class PeeringListView(LoginRequiredMixin, ListView):
    """All the user's tenants' peerings, filtered with the API's FilterSet, paginated."""

    template_name = "peerings/peering_list.html"
    context_object_name = "peerings"
    paginate_by = limits.PAGE_SIZE
    paginator_class = CappedCountPaginator

    @cached_property
    def filterset(self) -> PeeringFilterSet:
        peerings = selectors.visible_peerings(self.request.user, listing=True)
        queryset = with_created(peerings).order_by("-created_at", "-id")
        return people_filterset(self.request, self.request.GET or None, queryset)

    def get_queryset(self) -> QuerySet[Peering]:
        return self.filterset.qs

    def paginate_queryset(self, queryset: QuerySet[Peering], page_size: int) -> tuple:
        """A page number past the end shows the last page, a bad one the first (never a 404)."""
        paginator = self.get_paginator(queryset, page_size, allow_empty_first_page=True)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        mine = set(selectors.user_roles(self.request.user))
        return super().get_context_data(filter_form=self.filterset.form, my_tenant_ids=mine, **kwargs)


class PeeringExportView(LoginRequiredMixin, View):
    """The list's peerings, with its filters, as the inventory (:mod:`peerings.inventory`): a streamed
    CSV or JSON lines download, bounded like every export (:mod:`peerings.export_limits`)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        fmt = request.GET.get("format", "csv")
        peerings = with_created(selectors.visible_peerings(request.user, listing=True))
        filterset = people_filterset(request, request.GET or None, peerings.order_by("-created_at", "-id"))
        if fmt not in export.FORMATS or not filterset.is_valid():
            messages.error(request, "The export's filters or format are not valid.")
            return redirect("peerings:list")
        table = inventory.inventory_table(set(selectors.request_roles(request)))
        try:
            return export.export_response(filterset.qs, table, fmt=fmt, name="peerings", user=request.user)
        except export_limits.ExportsBusy as busy:
            messages.warning(request, f"{busy} Try again in {busy.retry_after} seconds.")
            return redirect(f"{reverse('peerings:list')}?{request.GET.urlencode()}")


#: What the queue's "accept" and "reject" mean for a request held for approval in the portal.
GATE_ACTION = {Action.ACCEPT: Action.APPROVE, Action.REJECT: Action.DECLINE}


class DecisionQueueView(LoginRequiredMixin, View):
    """Everything waiting for the user's decision, oldest first: requests of their tenants held for
    approval in the portal, and requests pending acceptance with the time left before the cloud
    expires them; accept (approve) or reject (decline) several at once with one reason, each
    through the workflow.
    """

    template_name = "peerings/queue.html"
    #: Rows per page: an approver with hundreds waiting gets them in pages, oldest first.
    page_size = limits.QUEUE_PAGE_SIZE

    def page(self) -> Any:
        roles = selectors.request_roles(self.request)
        # (the workflow re-reads each one it decides)
        peerings = selectors.awaiting_decision(self.request.user, listing=True, roles=roles)
        paginator = CappedCountPaginator(peerings, self.page_size, allow_empty_first_page=True)
        return paginator.get_page(self.request.GET.get("page"))

    def rows(self, peerings: Any) -> list[dict[str, Any]]:
        actor = permissions.Actor.of(self.request.user, roles=selectors.request_roles(self.request))
        now = timezone.now()
        rows = []
        for peering in peerings:
            allowed = permissions.allowed_actions(peering, actor)
            if peering.status == S.AWAITING_APPROVAL:  # not in the cloud: no cloud deadline yet
                rows.append(
                    {"peering": peering, "held": True, "allowed": allowed, "can_decide": bool(allowed & GATE)}
                )
                continue
            expires_at = peering.expires_at
            rows.append(
                {
                    "peering": peering,
                    "expires_at": expires_at,
                    "expired": expires_at <= now,
                    "urgent": expiry.expiring_soon(expires_at, now),
                    "can_decide": bool(allowed & DECISIONS),
                    "allowed": allowed,
                }
            )
        return rows

    def render_queue(self, form: BulkDecisionForm | None = None) -> HttpResponse:
        page = self.page()
        rows = self.rows(page.object_list)
        form = form or BulkDecisionForm(choices=[r["peering"].pk for r in rows])
        context = {"rows": rows, "form": form, "page_obj": page, "paginator": page.paginator}
        return render(self.request, self.template_name, context)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_queue()

    def post(self, request: HttpRequest) -> HttpResponse:
        # The chosen peerings that still wait for this user (on any page); the workflow checks each.
        chosen = [v for v in request.POST.getlist("peerings") if v.isdigit()]
        waiting = selectors.awaiting_decision(request.user, roles=selectors.request_roles(request))
        waiting = waiting.filter(pk__in=chosen)
        by_pk = {peering.pk: peering for peering in waiting}
        form = BulkDecisionForm(request.POST, choices=by_pk)
        if not form.is_valid():
            return self.render_queue(form)
        action = Action(form.cleaned_data["action"])
        reason = form.cleaned_data["reason"].strip()
        done: dict[Action, list[str]] = {}
        failed: list[str] = []
        for pk in form.cleaned_data["peerings"]:
            peering = by_pk[pk]
            performed = GATE_ACTION[action] if peering.status == S.AWAITING_APPROVAL else action
            try:
                workflow.peering_decide(
                    peering=peering,
                    acting_user=request.user,
                    action=performed,
                    reason=reason,
                    source=ChangeSource.USER,
                )
            except PortalError as exc:
                failed.append(f"{peering.name}: {error_message(exc)}")
            else:
                done.setdefault(performed, []).append(peering.name)
        # Each outcome by what was done: a held request is approved or declined, not accepted or rejected.
        for performed, names in done.items():
            messages.success(
                request, f"{performed.past.capitalize()} {len(names)} peering(s): {', '.join(names)}."
            )
        for line in failed:
            messages.error(request, line)
        return redirect("peerings:queue")


# --- The request form ---------------------------------------------------------------------------


class PeeringRequestView(LoginRequiredMixin, View):
    """Request a peering; the requester VPC is picked from the tenant's VPCs in the cloud."""

    template_name = "peerings/peering_form.html"

    @cached_property
    def tenants(self) -> QuerySet[Tenant]:
        return selectors.user_tenants(self.request.user)

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
            return vpcs.tenant_vpcs(tenant=tenant, acting_user=self.request.user), ""
        except CloudError as exc:
            return [], f"The VPCs of {tenant.name} could not be listed. {describe_cloud_error(exc)}"
        except PortalError as exc:
            return [], exc.message

    @cached_property
    def peer_tenants(self) -> QuerySet[Tenant]:
        return selectors.known_tenants()

    def _peer_tenant(self, pk: Any) -> Tenant | None:
        """The peer tenant picked (``?peer_tenant=`` or the posted one) among the known ones."""
        return next((t for t in self.peer_tenants if str(t.pk) == str(pk)), None) if pk else None

    def _peer_vpcs(
        self, peer: Tenant | None, tenant: Tenant | None, own: list[dict]
    ) -> tuple[list[dict], str]:
        """The VPCs offered for the peer VPC id: the peer tenant's (names only unless a member
        of it), else the requesting tenant's own; and the error when they cannot be listed."""
        if peer is None or tenant is None or peer.pk == tenant.pk:
            return own, ""
        try:
            return vpcs.peer_vpcs(tenant=peer, acting_user=self.request.user), ""
        except CloudError as exc:
            code = exc.code or "no answer"
            return [], f"The VPCs of {peer.name} could not be listed ({code}); type the peer VPC id."
        except PortalError as exc:
            return [], exc.message

    def _render(self, form: PeeringRequestForm, tenant: Tenant | None, **context: Any) -> HttpResponse:
        own, vpc_error = self._vpcs(tenant)
        form.set_vpcs(own)
        peer_key = form["peer_tenant"].value()
        peer = self._peer_tenant(peer_key)
        peer_vpcs, peer_vpc_error = self._peer_vpcs(peer, tenant, own)
        context = {
            "form": form,
            "tenant": tenant,
            "vpcs": own,
            "vpc_error": vpc_error,
            "peer": peer,
            "peer_vpcs": peer_vpcs,
            "peer_vpc_error": peer_vpc_error,
            "peer_cidrs_shown": permissions.may_see_cidrs(self.request.user, peer),
            **context,
        }
        return render(self.request, self.template_name, context)

    #: What the page carries over when it reloads for another tenant or peer (portal.js).
    CARRIED = ("request_vpc_id", "accept_vpc_id", "accept_project_id", "name", "description")

    def get(self, request: HttpRequest) -> HttpResponse:
        tenant = self._tenant(request.GET.get("tenant"))
        peer = self._peer_tenant(request.GET.get("peer_tenant"))
        initial: dict[str, Any] = {"tenant": tenant, "peer_tenant": peer}
        initial.update({key: request.GET[key] for key in self.CARRIED if request.GET.get(key)})
        if peer is not None and not initial.get("accept_project_id") and peer != tenant:
            initial["accept_project_id"] = peer.project_id
        form = PeeringRequestForm(tenants=self.tenants, peer_tenants=self.peer_tenants, initial=initial)
        return self._render(form, tenant)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PeeringRequestForm(request.POST, tenants=self.tenants, peer_tenants=self.peer_tenants)
        if not form.is_valid():
            return self._render(form, self._tenant(request.POST.get("tenant")))
        data = form.cleaned_data
        tenant = data["tenant"]
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
                routes_on_accept=data["routes_on_accept"],
                source=ChangeSource.USER,
            )
        except RequestInvalid as exc:
            add_request_errors(form, exc)
            form.needs_confirmation = exc.needs_confirmation
            return self._render(form, tenant)
        except CloudError as exc:
            return self._render(form, tenant, cloud_error=describe_cloud_error(exc), kept=exc.peering)
        except PortalError as exc:
            form.add_error(None, exc.message)
            return self._render(form, tenant)
        if peering.status == S.AWAITING_APPROVAL:
            text = (
                f"Peering “{peering.name}” requested: {tenant.name} holds requests for approval, so it waits "
                "for one of its approvers before it is sent to the cloud."
            )
        else:
            text = f"Peering “{peering.name}” requested: it is {peering.get_status_display()}."
        messages.success(request, text)
        return redirect("peerings:detail", pk=peering.pk)


# --- One peering ---------------------------------------------------------------------------------


#: A peering's page shows this many of its newest route events.
ROUTE_CHANGES_SHOWN = 20


#: Closed without a peering in the cloud: "Request again" offers the same request, to edit and send.
ASK_AGAIN = frozenset({S.REJECTED, S.DECLINED, S.EXPIRED, S.FAILED})


def request_again_url(peering: Peering, my_sides: list[str]) -> str:
    """The request form, filled with ``peering``'s VPCs, name and description, for its requester's
    members once it was rejected, declined, expired or failed; "" otherwise."""
    if peering.status not in ASK_AGAIN or "requester" not in my_sides:
        return ""
    params = {
        "tenant": peering.requester_tenant_id,
        "request_vpc_id": peering.requester_vpc_id,
        "accept_vpc_id": peering.accepter_vpc_id,
        "name": peering.name,
        "description": peering.description,
    }
    if peering.accepter_project_id != peering.requester_project_id:
        params["accept_project_id"] = peering.accepter_project_id
        if peering.accepter_tenant_id is not None:
            params["peer_tenant"] = peering.accepter_tenant_id
    return f"{reverse('peerings:request')}?{urlencode({k: v for k, v in params.items() if v})}"


def refused_decision_key(peering: Peering) -> str:
    """The session key of a decision form refused for ``peering``, shown once on its page."""
    return f"peerings:refused-decision:{peering.pk}"


class PeeringMixin(PageErrorsMixin, LoginRequiredMixin):
    """Fetches the peering of the URL among the user's tenants' peerings (404 otherwise)."""

    request: HttpRequest

    def get_peering(self, pk: int) -> Peering:
        return get_object_or_404(selectors.visible_peerings(self.request.user), pk=pk)

    def allowed(self, peering: Peering) -> dict[str, bool]:
        """The actions to offer, as ``{"accept": True, ...}`` for the templates."""
        actor = permissions.actor_for(self.request.user, peering)
        return {action.value: True for action in permissions.allowed_actions(peering, actor)}

    def render_detail(self, peering: Peering, **forms_: Any) -> HttpResponse:
        refused = self.request.session.pop(refused_decision_key(peering), None)
        if isinstance(refused, dict) and refused.get("action") in {a.value for a in DECISIONS | GATE}:
            action = Action(refused["action"])
            form = DecisionForm(action, refused.get("data") or {})
            form.is_valid()
            forms_.setdefault(f"{action}_form", form)
        my_sides = access.sides_of(self.request.user, peering)
        context = {
            "peering": peering,
            "allowed": self.allowed(peering),
            "status_changes": selectors.peering_status_changes(peering),
            "calls": selectors.peering_calls(peering, self.request.user),
            "routes": list(route_selectors.peering_routes(peering)),
            "route_changes": route_selectors.peering_route_changes(peering)[:ROUTE_CHANGES_SHOWN],
            "my_sides": my_sides,
            "request_again_url": request_again_url(peering, my_sides),
            "now": timezone.now(),
            **{f"{a}_form": forms_.get(f"{a}_form") or DecisionForm(a) for a in DECISIONS | GATE},
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
        except PortalError as exc:
            return self.refused(exc, peering)
        if isinstance(result, HttpResponse):
            return result
        messages.success(request, self.done_message(result))
        return self.back(peering)

    #: The status the action leads to; the message names the status only when it is another one.
    expected_status: str = ""

    def done_message(self, peering: Peering) -> str:
        """ "Peering rejected.", or with the status when it is not the one the action implies."""
        if peering.status == self.expected_status:
            return self.done
        return f"{self.done} It is now {peering.get_status_display().lower()}."


class PeeringDecideView(PeeringActionView):
    """Accept, reject, approve or decline (``action``), with the reason the decision form asks for."""

    action: Action = Action.ACCEPT

    @property
    def done(self) -> str:
        return f"Peering {self.action.past}."

    @property
    def expected_status(self) -> str:  # type: ignore[override]
        # An approved request goes on to the cloud: its status is always named.
        return {Action.ACCEPT: S.ACTIVE, Action.REJECT: S.REJECTED, Action.DECLINE: S.DECLINED}.get(
            self.action, ""
        )

    def run(self, peering: Peering) -> Peering | HttpResponse:
        form = DecisionForm(self.action, self.request.POST)
        if not form.is_valid():
            # Back to the peering's own URL (not …/reject/), with the form and its errors kept.
            self.request.session[refused_decision_key(peering)] = {
                "action": str(self.action),
                "data": {key: self.request.POST.get(key, "") for key in form.fields_keys()},
            }
            return self.back(peering)
        return workflow.peering_decide(
            peering=peering,
            acting_user=self.request.user,
            action=self.action,
            reason=form.cleaned_data["reason"],
            source=ChangeSource.USER,
        )


class PeeringRefreshView(PeeringActionView):
    done = "Peering refreshed from the cloud."

    def done_message(self, peering: Peering) -> str:
        return f"{self.done} It is {peering.get_status_display().lower()}."

    def run(self, peering: Peering) -> Peering:
        return workflow.peering_refresh(
            peering=peering, acting_user=self.request.user, source=ChangeSource.USER
        )


class PeeringDeleteView(PeeringActionView):
    """GET asks for confirmation; POST deletes the peering in the cloud."""

    http_method_names = ["get", "post"]
    done = "Peering deleted."
    expected_status = S.DELETED

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        peering = self.get_peering(pk)
        context = {
            "peering": peering,
            "allowed": self.allowed(peering),
            "routes": route_selectors.live_routes(peering),
        }
        return render(request, "peerings/peering_confirm_delete.html", context)

    def run(self, peering: Peering) -> Peering:
        return workflow.peering_delete(
            peering=peering, acting_user=self.request.user, source=ChangeSource.USER
        )


class PeeringEditView(PeeringMixin, View):
    """Rename a peering or change its description; only the changed fields are sent."""

    template_name = "peerings/peering_edit.html"

    def _render(self, peering: Peering, form: PeeringEditForm, **context: Any) -> HttpResponse:
        context = {"peering": peering, "form": form, "allowed": self.allowed(peering), **context}
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
            return self.refused(exc, peering)
        messages.success(request, f"Peering “{peering.name}” updated.")
        return self.back(peering)
