"""The admin's actions on peerings: each workflow operation as an admin action (with its
intermediate page and reason box), and the CSV / JSON lines exports of a changelist.

The admin never changes a peering itself: every action calls the workflow, which checks
tenant roles (superusers included), talks to the cloud and records the change; its errors
are shown with ``message_user``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from peerings import export, export_limits, permissions, workflow
from peerings.admin_forms import PeeringActionForm
from peerings.choices import ChangeSource
from peerings.exceptions import NotPermitted, PortalError
from peerings.models import Peering
from peerings.permissions import Action
from peerings.routes import workflow as route_workflow
from peerings.rules.decisions import needs_reason

__all__ = [
    "APPROVER_HINT",
    "GATE_HINT",
    "MEMBER_HINT",
    "OPERATIONS",
    "AdminOperation",
    "PeeringOperations",
    "admin_action",
    "export_actions",
]

APPROVER_HINT = "Roles apply to superusers too: to decide, be an approver of the tenant it is addressed to."
GATE_HINT = (
    "A held request is approved by an approver of its requester tenant or a superuser, "
    "not by its requester where the tenant separates duties."
)
MEMBER_HINT = "Roles apply to superusers too: be a member of the requester or the accepter tenant."


@dataclass(frozen=True)
class AdminOperation:
    """A workflow operation offered as an admin action on the selected peerings."""

    kind: Action  # what it does (peerings/permissions.py decides who may, and when)
    action: str  # the admin action's name
    title: str
    button: str  # its label on the peering's page
    verb: str
    done: str
    role_hint: str  # added to a NotPermitted error: the workflow applies tenant roles to superusers too
    confirm: bool = True  # show an intermediate page first
    reason: str | None = None  # the reason box on that page: None, "optional" or "required"
    function: Callable[..., Peering] | None = None  # default: the workflow's peering_<kind>

    def run(self, peering: Peering, user: Any, **kwargs: Any) -> Peering:
        """Call the workflow's ``peering_<kind>`` (or ``function``) for one peering, as ``user``."""
        function = self.function or getattr(workflow, f"peering_{self.kind}")
        return function(peering=peering, acting_user=user, source=ChangeSource.ADMIN, **kwargs)


def _decision(kind: Action, role_hint: str = APPROVER_HINT) -> AdminOperation:
    verb = str(kind)
    return AdminOperation(
        kind=kind,
        action=f"{verb}_selected",
        title=f"{verb.capitalize()} peerings",
        button=verb.capitalize(),
        verb=verb,
        done=kind.past.capitalize(),
        role_hint=role_hint,
        reason="required" if needs_reason(kind) else "optional",
    )


ACCEPT = _decision(Action.ACCEPT)
REJECT = _decision(Action.REJECT)
APPROVE = _decision(Action.APPROVE, GATE_HINT)
DECLINE = _decision(Action.DECLINE, GATE_HINT)
REFRESH = AdminOperation(
    kind=Action.REFRESH,
    action="refresh_selected",
    title="Refresh peerings from the cloud",
    button="Refresh from the cloud",
    verb="refresh",
    done="Refreshed",
    role_hint=MEMBER_HINT,
    confirm=False,
)
DELETE = AdminOperation(
    kind=Action.DELETE,
    action="delete_selected_in_cloud",
    title="Delete peerings in the cloud",
    button="Delete in the cloud",
    verb="delete",
    done="Deleted",
    role_hint=MEMBER_HINT,
)


def _on_my_sides(kind: Action, change: Callable[..., Any]) -> Callable[..., Peering]:
    """Run a route operation on each side of the peering the user belongs to, with that side's keys."""

    def run(*, peering: Peering, acting_user: Any, source: str, **kwargs: Any) -> Peering:
        actor = permissions.actor_for(acting_user, peering)
        sides = permissions.route_sides(peering, actor, kind)
        if not sides:
            permissions.check(kind, peering, actor)  # raises the refusal
        for side in sides:
            change(peering=peering, acting_user=acting_user, side=side, source=source)
        peering.refresh_from_db()
        return peering

    return run


APPLY_ROUTES = AdminOperation(
    kind=Action.APPLY_ROUTES,
    action="apply_routes_selected",
    title="Apply the routes of peerings",
    button="Apply my sides' routes",
    verb="apply the routes of",
    done="Routes applied for",
    role_hint=MEMBER_HINT,
    function=_on_my_sides(Action.APPLY_ROUTES, route_workflow.routes_apply),
)
REMOVE_ROUTES = AdminOperation(
    kind=Action.REMOVE_ROUTES,
    action="remove_routes_selected",
    title="Remove the routes of peerings",
    button="Remove my sides' routes",
    verb="remove the routes of",
    done="Routes removed for",
    role_hint=MEMBER_HINT,
    function=_on_my_sides(Action.REMOVE_ROUTES, route_workflow.routes_remove),
)
OPERATIONS = (APPROVE, DECLINE, ACCEPT, REJECT, REFRESH, DELETE, APPLY_ROUTES, REMOVE_ROUTES)
DESCRIPTIONS = {
    APPROVE: "Approve selected requests (held for approval) and send them to the cloud",
    DECLINE: "Decline selected requests held for approval",
    ACCEPT: "Accept selected peerings",
    REJECT: "Reject selected peerings",
    REFRESH: "Refresh selected peerings from the cloud",
    DELETE: "Delete selected peerings in the cloud",
    APPLY_ROUTES: "Apply the routes of selected peerings (your sides, to the peer's range)",
    REMOVE_ROUTES: "Remove the routes of selected peerings (your sides)",
}


def admin_action(op: AdminOperation) -> Any:
    """The admin action that runs ``op`` on the selected peerings."""

    def action(modeladmin: PeeringOperations, request: HttpRequest, queryset: QuerySet[Peering]) -> Any:
        return modeladmin.operate(request, queryset, op)

    action.__name__ = op.action
    return admin.action(description=DESCRIPTIONS[op], permissions=["operate"])(action)


def export_actions(
    columns: list[tuple[str, str]] | Callable[[HttpRequest], export.Table], name: str
) -> list[Any]:
    """Admin actions streaming the selected rows (or all the filtered ones) as CSV / JSON lines;
    ``columns`` may be built for the request's user (what they may see of each row)."""

    def make(fmt: str, label: str) -> Any:
        def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> Any:
            table = columns(request) if callable(columns) else columns
            try:
                return export.export_response(
                    queryset.order_by("-created_at", "-id"), table, fmt=fmt, name=name, user=request.user
                )
            except export_limits.ExportsBusy as busy:
                modeladmin.message_user(
                    request, f"{busy} Try again in {busy.retry_after} seconds.", messages.WARNING
                )
                return None

        action.__name__ = f"export_{fmt}"
        return admin.action(description=f"Export selected as {label}")(action)

    return [make("csv", "CSV"), make("jsonl", "JSON lines")]


class PeeringOperations:
    """Mix into the peerings' ModelAdmin: runs an :class:`AdminOperation` on the selected peerings."""

    def operate(
        self, request: HttpRequest, queryset: QuerySet[Peering], op: AdminOperation
    ) -> HttpResponse | None:
        """Run ``op`` at once, or after an intermediate page (with its reason box) is confirmed."""
        form_options = {"show_reason": op.reason is not None, "reason_required": op.reason == "required"}
        if not op.confirm:
            self._run(request, queryset, op)
            return None
        if request.POST.get("post") == "yes":
            form = PeeringActionForm(request.POST, **form_options)
            if form.is_valid():
                self._run(request, queryset, op, **form.cleaned_data)
                return None  # back to the changelist, where the messages show
        else:
            form = PeeringActionForm(**form_options)
        context = {
            **self.admin_site.each_context(request),
            "title": op.title,
            "subtitle": None,
            "op": op,
            "opts": self.opts,
            "queryset": queryset,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/peerings/peering/action_confirmation.html", context)

    def _run(
        self, request: HttpRequest, queryset: QuerySet[Peering], op: AdminOperation, **kwargs: Any
    ) -> None:
        """Call the workflow for each peering and report each outcome; its errors become messages."""
        for peering in queryset.order_by("pk"):
            try:
                result = op.run(peering, request.user, **kwargs)
            except NotPermitted as exc:
                self.message_user(
                    request, f"Could not {op.verb} “{peering}”: {exc.message} {op.role_hint}", messages.ERROR
                )
            except PortalError as exc:
                self.message_user(request, f"Could not {op.verb} “{peering}”: {exc}", messages.ERROR)
            else:
                status = result.get_status_display()
                self.message_user(request, f"{op.done} “{result}”: it is now {status}.", messages.SUCCESS)
