"""The tenant walls, cell by cell: every role, object and verb, on the pages, the admin and the REST API.

The world (made once for the module, rolled back at its end): tenants A and B, which have
a peering each way (``ab``: A requested it, addressed to B; ``ba``: the other way), C (a
tenant with members but no peering), D and E (with a peering ``de`` between them and no
member among the roles). Every peering is pending acceptance and confirmed by the cloud,
the status in which the most verbs are open. Each peering has a status change, and there
are cloud calls signed with A's keys (no peering), with B's keys for ``ab``, with D's keys
for ``de`` and with D's keys alone.

The expected answer of each cell comes from the rules written below (``visible``,
``MAY``, ``REFUSAL`` and the ``expect_*`` functions), never from ``peerings.permissions``
or ``peerings.selectors``, so the test checks them rather than repeats them:

* the pages and the API show a user only the objects of their own tenants (a peering of
  either side, its history, the tenant and its VPCs, calls signed with its keys); anything
  else answers 404 and no list holds it, whoever asks (staff and superusers included);
* anonymous users are sent to sign in (pages), get 401 (API) or the admin's sign-in;
* a visible peering and a verb the user's role does not allow: 403 ``not_permitted`` (API),
  or the refusal as an error message on the peering's page (pages, admin) — and nothing
  is sent to the cloud; an allowed verb reaches the cloud (``workflow.tenant_client`` is
  replaced: nothing leaves the process) with the keys of the user's own side;
* the admin shows superusers every row, and staff with its model permissions only the rows
  of their own tenants (another tenant's row is "not found": a redirect to the admin's index)
  — read-only: the history and the peering mirror cannot be changed there — and its workflow
  actions apply tenant roles to them too; staff without the permissions get 403, other users
  the admin's sign-in.

Besides, no page or API answer a role gets ever contains the marker (name, correlation id,
reason) of an object it may not see.

Routes (an active peering's, in each side's VPC) have their own cells at the end: a member of
one side never changes the other side's routes, on any front, and what a user may do to a
side's routes is done with that side's keys.

Requests held for approval in the portal have theirs too: they are the requester's alone (the
accepter's side has not been asked: 404 on the pages and the API, hidden in the admin); only the
requester's approvers (or a portal admin, in the admin) approve or decline, only the requester's
members withdraw, on every front; an approval is sent with the requester's keys; the approver's
queue lists, within the walls, what waits for the role's own decision.

To cover a new object or endpoint (an export, a webhook), add its rows to the world in
``world``, its visibility to ``visible``, and its probes to ``EXTRA_CELLS`` (see there).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse
from rest_framework.exceptions import APIException
from rest_framework.test import APIClient

from accounts.models import ApiToken
from peerings import vpcs, workflow
from peerings.admin_actions import APPROVER_HINT, GATE_HINT, MEMBER_HINT
from peerings.choices import ApprovalPolicy, CallOperation, PeeringStatus, Role
from peerings.models import Peering, PeeringRoute, StatusChange, Tenant, UpstreamCall
from peerings.routes.messages import NOT_YOUR_SIDE
from peerings.rules.messages import (
    NOT_A_MEMBER,
    NOT_A_REQUESTER_APPROVER,
    NOT_A_TENANT_MEMBER,
    NOT_AN_APPROVER,
    NOT_AN_APPROVER_TO_DELETE,
    REQUEST_VPC_NOT_OWNED,
)
from tests.factories import (
    MembershipFactory,
    PeeringFactory,
    StatusChangeFactory,
    TenantFactory,
    UpstreamCallFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

M, AP = Role.MEMBER, Role.APPROVER

# --- The roles --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleSpec:
    signed_in: bool = True
    tenants: dict[str, Role] = field(default_factory=dict)  # tenant key -> role
    staff: bool = False
    perms: bool = False  # the admin's model permissions (every peerings.* permission)
    superuser: bool = False

    @property
    def admin(self) -> str:
        """What the admin is to this role: ``all`` rows, ``own`` tenants' rows, ``forbidden``, ``login``."""
        if self.superuser:
            return "all"
        if self.staff and self.perms:
            return "own"
        return "forbidden" if self.staff else "login"


ROLES: dict[str, RoleSpec] = {
    "anonymous": RoleSpec(signed_in=False),
    "A member": RoleSpec(tenants={"A": M}),  # the requester's member on ab, the accepter's on ba
    "A approver": RoleSpec(tenants={"A": AP}),
    "B member": RoleSpec(tenants={"B": M}),
    "B approver": RoleSpec(tenants={"B": AP}),
    "C member": RoleSpec(tenants={"C": M}),  # a user of another tenant: neither side of any peering
    "staff": RoleSpec(staff=True),
    "staff with perms": RoleSpec(staff=True, perms=True),
    "superuser": RoleSpec(staff=True, superuser=True),
    "superuser, B approver": RoleSpec(staff=True, superuser=True, tenants={"B": AP}),
}

# --- The objects ------------------------------------------------------------------------------------------

TENANTS = ["A", "B", "C", "D", "E"]
PEERINGS = {"ab": ("A", "B"), "ba": ("B", "A"), "de": ("D", "E")}  # requester, accepter
REQUESTED_BY = {"ab": "A member", "ba": "B member", "de": None}
CALLS = {  # signed with the keys of, for the peering
    "A alone": ("A", None),
    "B for ab": ("B", "ab"),
    "D for de": ("D", "de"),
    "D alone": ("D", None),
}


def marker(kind: str, key: str) -> str:
    """A string only this object's pages and answers carry (its name, correlation id, reason)."""
    return f"wallmark-{kind}-{key.replace(' ', '-')}"


# --- The rules (written here, not read from peerings.permissions) -----------------------------------------


def side(role: str, peering: str) -> tuple[str, Role] | None:
    """(``requester``/``accepter``, tenant role) of ``role`` on ``peering``, or None."""
    requester, accepter = PEERINGS[peering]
    tenants = ROLES[role].tenants
    if requester in tenants:
        return "requester", tenants[requester]
    if accepter in tenants:
        return "accepter", tenants[accepter]
    return None


def visible(role: str, kind: str, key: str) -> bool:
    """Whether the pages and the API show ``role`` this object."""
    tenants = ROLES[role].tenants
    if kind == "peering":
        return side(role, key) is not None
    if kind == "tenant":
        return key in tenants
    if kind == "call":
        tenant, peering = CALLS[key]
        return tenant in tenants or (peering is not None and visible(role, "peering", peering))
    if kind == "change":
        return visible(role, "peering", key)
    raise AssertionError(kind)


#: What each side's roles may do to a pending, confirmed peering.
MAY: dict[tuple[str, Role], set[str]] = {
    ("requester", M): {"update", "refresh", "delete"},
    ("requester", AP): {"update", "refresh", "delete"},
    ("accepter", M): {"update", "refresh"},
    ("accepter", AP): {"update", "refresh", "delete", "accept", "reject"},
}
#: Why a visible peering's verb is refused.
REFUSAL = {"accept": NOT_AN_APPROVER, "reject": NOT_AN_APPROVER, "delete": NOT_AN_APPROVER_TO_DELETE}
#: Why the admin's actions are refused to a user of neither side.
REFUSAL_TO_STRANGERS = {"accept": NOT_AN_APPROVER, "reject": NOT_AN_APPROVER}
WRITES = ["update", "accept", "reject", "refresh", "delete"]
OPERATION = {  # the cloud client's method each write reaches
    "update": "update_peering",
    "accept": "accept_peering",
    "reject": "reject_peering",
    "refresh": "show_peering",
    "delete": "delete_peering",
}


def may(role: str, peering: str, verb: str) -> bool:
    where = side(role, peering)
    return where is not None and verb in MAY[where]


def signer(role: str, peering: str, verb: str) -> str:
    """Whose keys an allowed write uses: the accepter's for a decision, else the user's own side's."""
    requester, accepter = PEERINGS[peering]
    if verb in ("accept", "reject"):
        return accepter
    return requester if side(role, peering)[0] == "requester" else accepter


def own_tenant(role: str) -> str | None:
    """The tenant the request form falls back to: the user's first (by name)."""
    return min(ROLES[role].tenants, default=None)


# --- Answers ----------------------------------------------------------------------------------------------


class Answer(NamedTuple):
    """What a cell answered: a status (or ``login``, ``admin login``, ``sent``), a detail, the cloud calls."""

    what: int | str
    detail: Any = None
    cloud: tuple[tuple[str, str], ...] = ()


def sent(tenant: str, *operations: str) -> Answer:
    return Answer("sent", None, tuple((tenant, op) for op in operations))


# --- The fake cloud ---------------------------------------------------------------------------------------


class Sent(APIException):
    """Raised instead of calling the cloud: the write got through every check.

    An ``APIException``, so the API answers it with its status instead of logging a 500;
    the pages and the admin let it through to the test client, which raises it again.
    """

    status_code = 418
    default_code = "sent"


class FakeCloud:
    """Records every cloud operation as ``(tenant key, operation)``; lists each tenant's own VPCs."""

    def __init__(self, keys: dict[int, str], vpcs_of: dict[str, list[str]]) -> None:
        self.keys = keys  # tenant pk -> key
        self.vpcs_of = vpcs_of
        self.calls: list[tuple[str, str]] = []

    def client(self, tenant: Tenant, **options: Any) -> Any:
        cloud = self

        class Client:
            def __getattr__(self, operation: str) -> Callable[..., Any]:
                def call(*args: Any, **kwargs: Any) -> Any:
                    cloud.calls.append((cloud.keys[tenant.pk], operation))
                    raise Sent(f"{operation} with {tenant.name}'s keys")

                return call

        return Client()

    def list_vpcs(self, *, tenant: Tenant, acting_user: Any = None) -> list[dict]:
        key = self.keys[tenant.pk]
        self.calls.append((key, "list_vpcs"))
        return [{"id": vpc, "name": f"vpc-{key}", "cidr": ""} for vpc in self.vpcs_of[key]]


# --- The world, once per module ---------------------------------------------------------------------------


@dataclass
class World:
    tenants: dict[str, Tenant]
    peerings: dict[str, Peering]
    calls: dict[str, UpstreamCall]
    changes: dict[str, StatusChange]
    sessions: dict[str, str]  # role -> session key
    tokens: dict[str, str]  # role -> API key
    vpcs_of: dict[str, list[str]]  # tenant key -> its VPC ids (the first one is in no peering)

    def object(self, kind: str, key: str) -> Any:
        return {"peering": self.peerings, "tenant": self.tenants, "call": self.calls, "change": self.changes}[
            kind
        ][key]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Any:
    with django_db_blocker.unblock(), transaction.atomic():
        tenants = {key: TenantFactory(name=marker("tenant", key)) for key in TENANTS}
        vpcs_of = {key: [str(uuid.uuid4()) for _ in range(4)] for key in TENANTS}
        users = {}
        all_perms = list(Permission.objects.filter(content_type__app_label="peerings"))
        for role, spec in ROLES.items():
            if not spec.signed_in:
                continue
            user = UserFactory(
                username=f"wall-{role.replace(' ', '-').replace(',', '')}",
                is_staff=spec.staff,
                is_superuser=spec.superuser,
            )
            if spec.perms:
                user.user_permissions.add(*all_perms)
            for tenant, tenant_role in spec.tenants.items():
                MembershipFactory(user=user, tenant=tenants[tenant], role=tenant_role)
            users[role] = user
        peerings = {}
        for index, (key, (requester, accepter)) in enumerate(PEERINGS.items(), start=1):
            requested_by = REQUESTED_BY[key]
            peerings[key] = PeeringFactory(
                name=marker("peering", key),
                status=PeeringStatus.PENDING_ACCEPTANCE,
                requester_tenant=tenants[requester],
                requester_vpc_id=vpcs_of[requester][index],  # ab: A1-B1, ba: B2-A2, de: D3-E3
                accepter_tenant=tenants[accepter],
                accepter_vpc_id=vpcs_of[accepter][index],
                requested_by=users[requested_by] if requested_by else None,
            )
        changes = {
            key: StatusChangeFactory(peering=peering, reason=marker("change", key))
            for key, peering in peerings.items()
        }
        calls = {
            key: UpstreamCallFactory(
                tenant=tenants[tenant],
                peering=peerings[peering] if peering else None,
                operation=CallOperation.SHOW if peering else CallOperation.LIST_VPCS,
                correlation_id=marker("call", key),
            )
            for key, (tenant, peering) in CALLS.items()
        }
        sessions, tokens = {}, {}
        for role, user in users.items():
            browser = Client()
            browser.force_login(user)
            sessions[role] = browser.cookies[settings.SESSION_COOKIE_NAME].value
            tokens[role] = ApiToken.objects.create_token(user, name="walls")[1]
        yield World(tenants, peerings, calls, changes, sessions, tokens, vpcs_of)
        transaction.set_rollback(True)


@pytest.fixture
def cloud(world, monkeypatch, settings) -> FakeCloud:
    fake = FakeCloud({t.pk: key for key, t in world.tenants.items()}, world.vpcs_of)
    settings.VPC_CLIENT_FACTORY = fake.client
    monkeypatch.setattr(workflow, "fetch_tenant_vpcs", fake.list_vpcs)
    monkeypatch.setattr(vpcs, "fetch_tenant_vpcs", fake.list_vpcs)
    return fake


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


def browser(world: World, role: str) -> Client:
    client = Client()
    if role in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def api(world: World, role: str) -> APIClient:
    client = APIClient()
    if role in world.tokens:
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[role]}")
    return client


def invisible_markers(role: str, *, tenant_directory: bool = False) -> list[str]:
    """What ``role`` must never be shown: objects it may not see, tenants it shares no peering with.

    With ``tenant_directory`` (the request form, whose peer picker lists every tenant the portal
    knows by name, by design), tenants' names are not secret; their peerings and history still are.
    """
    found = []
    for kind, keys in (("peering", PEERINGS), ("call", CALLS), ("change", PEERINGS)):
        found += [marker(kind, key) for key in keys if not visible(role, kind, key)]
    for tenant in [] if tenant_directory else TENANTS:
        peers = [p for p, sides in PEERINGS.items() if tenant in sides and visible(role, "peering", p)]
        if not visible(role, "tenant", tenant) and not peers:
            found.append(marker("tenant", tenant))
    return found


def assert_no_leak(role: str, body: str, *, tenant_directory: bool = False) -> None:
    leaked = [m for m in invisible_markers(role, tenant_directory=tenant_directory) if m in body]
    assert not leaked, f"{role} was shown {leaked}"


def run(cloud: FakeCloud, request: Callable[[], Any]) -> tuple[Any, bool]:
    """Make ``request``; return its response (None if the cloud was reached on a page) and whether it was."""
    cloud.calls.clear()
    try:
        response = request()
    except Sent:
        return None, True
    return response, getattr(response, "status_code", None) == Sent.status_code


def page_messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


# --- Pages: one peering -----------------------------------------------------------------------------------

PAGE_READS = {"read": "detail", "edit form": "edit", "delete form": "delete"}
PAGE_WRITES = {
    "update": ("edit", {"name": "renamed", "description": ""}),
    "accept": ("accept", {"accept-reason": "fine"}),
    "reject": ("reject", {"reject-reason": "no"}),
    "refresh": ("refresh", {}),
    "delete": ("delete", {}),
}


def expect_page(role: str, peering: str, verb: str) -> Answer:
    if not ROLES[role].signed_in:
        return Answer("login")
    if not visible(role, "peering", peering):
        return Answer(404)
    if verb in PAGE_READS:
        return Answer(200)
    if may(role, peering, verb):
        return sent(signer(role, peering, verb), OPERATION[verb])
    return Answer(302, ("error", REFUSAL[verb]))


@pytest.mark.parametrize(
    ("role", "peering", "verb"), list(itertools.product(ROLES, PEERINGS, [*PAGE_READS, *PAGE_WRITES]))
)
def test_pages_peering(world, cloud, role, peering, verb):
    target = world.peerings[peering]
    client = browser(world, role)
    if verb in PAGE_READS:
        url = reverse(f"peerings:{PAGE_READS[verb]}", args=[target.pk])
        response, reached = run(cloud, lambda: client.get(url))
    else:
        name, data = PAGE_WRITES[verb]
        url = reverse(f"peerings:{name}", args=[target.pk])
        response, reached = run(cloud, lambda: client.post(url, data))
    if reached:
        answer = Answer("sent", None, tuple(cloud.calls))
    elif response.status_code == 302 and response.url.startswith(reverse("login") + "?next="):
        answer = Answer("login")
    elif response.status_code == 302:
        assert response.url == reverse("peerings:detail", args=[target.pk])
        errors = [m for m in page_messages(response) if m[0] == "error"]
        answer = Answer(302, errors[0] if len(errors) == 1 else errors, tuple(cloud.calls))
    else:
        answer = Answer(response.status_code, None, tuple(cloud.calls))
        body = response.content.decode()
        assert_no_leak(role, body)
        if response.status_code == 200:
            assert target.name in body
        if response.status_code == 200 and verb == "read":  # its history, whoever's keys made the calls
            assert marker("change", peering) in body
            assert all(marker("call", c) in body for c, (_, p) in CALLS.items() if p == peering)
    assert answer == expect_page(role, peering, verb)
    target.refresh_from_db()
    assert target.name == marker("peering", peering)  # nothing was changed here


# --- API: one peering -------------------------------------------------------------------------------------

API_VERBS: dict[str, tuple[str, str, dict | None]] = {  # verb: (method, URL name, body)
    "read": ("get", "api:peering-detail", None),
    "calls": ("get", "api:peering-calls", None),
    "status changes": ("get", "api:peering-status-changes", None),
    "update": ("patch", "api:peering-detail", {"name": "renamed"}),
    "accept": ("post", "api:peering-accept", {"reason": "fine"}),
    "reject": ("post", "api:peering-reject", {"reason": "no"}),
    "refresh": ("post", "api:peering-refresh", None),
    "delete": ("delete", "api:peering-detail", None),
}


def expect_api(role: str, peering: str, verb: str) -> Answer:
    if not ROLES[role].signed_in:
        return Answer(401, "not_authenticated")
    if not visible(role, "peering", peering):
        return Answer(404, "not_found")
    if verb == "read":
        return Answer(200, marker("peering", peering))
    if verb == "calls":  # every call made for the peering, whoever's keys signed it
        return Answer(200, sorted(marker("call", c) for c, (_, p) in CALLS.items() if p == peering))
    if verb == "status changes":
        return Answer(200, [marker("change", peering)])
    if may(role, peering, verb):
        return sent(signer(role, peering, verb), OPERATION[verb])
    return Answer(403, ("not_permitted", REFUSAL[verb]))


@pytest.mark.parametrize(("role", "peering", "verb"), list(itertools.product(ROLES, PEERINGS, API_VERBS)))
def test_api_peering(world, cloud, role, peering, verb):
    target = world.peerings[peering]
    method, url_name, body = API_VERBS[verb]
    client = api(world, role)
    url = reverse(url_name, args=[target.pk])
    response, reached = run(cloud, lambda: getattr(client, method)(url, body, format="json"))
    if reached:
        answer = Answer("sent", None, tuple(cloud.calls))
    elif response.status_code == 200:
        data = response.json()
        if verb == "read":
            answer = Answer(200, data["name"])
        elif verb == "calls":
            answer = Answer(200, sorted(row["correlation_id"] for row in data["results"]))
        else:
            answer = Answer(200, [row["reason"] for row in data["results"]])
    else:
        error = response.json()["error"]
        detail = error["code"] if response.status_code in (401, 404) else (error["code"], error["message"])
        answer = Answer(response.status_code, detail, tuple(cloud.calls))
    assert_no_leak(role, response.content.decode() if response is not None else "")
    assert answer == expect_api(role, peering, verb)


# --- Admin: one peering -----------------------------------------------------------------------------------

ADMIN_ACTIONS = {
    "accept": "accept_selected",
    "reject": "reject_selected",
    "refresh": "refresh_selected",
    "delete": "delete_selected_in_cloud",
}
ADMIN_VERBS = ["read", "update", "delete row", "history", *ADMIN_ACTIONS]


def expect_admin_gate(role: str) -> Answer | None:
    """The admin's own gate: sign-in for anonymous and non-staff users, 403 without permissions."""
    access = ROLES[role].admin
    if access == "login":
        return Answer("admin login")
    if access == "forbidden":
        return Answer(403)
    return None


def admin_hides(role: str, kind: str, key: str) -> bool:
    """Whether the admin hides this row from ``role`` (staff see their own tenants' rows only)."""
    return ROLES[role].admin == "own" and not visible(role, kind, key)


def expect_admin(role: str, peering: str, verb: str) -> Answer:
    gate = expect_admin_gate(role)
    if gate is not None:
        return gate
    if admin_hides(role, "peering", peering) and verb not in ("update", "delete row"):
        # Not found: the change pages redirect to the index; an action finds nothing selected.
        return Answer(302, [] if verb in ADMIN_ACTIONS else None)
    if verb in ("read", "history"):  # every peering, with its history, read-only
        return Answer(200)
    if verb in ("update", "delete row"):
        return Answer(403)
    if may(role, peering, verb):  # the workflow applies tenant roles, superusers included
        return sent(signer(role, peering, verb), OPERATION[verb])
    why = REFUSAL[verb] if side(role, peering) else REFUSAL_TO_STRANGERS.get(verb, NOT_A_MEMBER)
    hint = APPROVER_HINT if verb in ("accept", "reject") else MEMBER_HINT
    return Answer(302, ("error", f"Could not {verb} “{marker('peering', peering)}”: {why} {hint}"))


def admin_answer(response, cloud: FakeCloud) -> Answer:
    if response.status_code == 302 and response.url.startswith(reverse("admin:login") + "?next="):
        return Answer("admin login")
    return Answer(response.status_code, None, tuple(cloud.calls))


@pytest.mark.parametrize(("role", "peering", "verb"), list(itertools.product(ROLES, PEERINGS, ADMIN_VERBS)))
def test_admin_peering(world, cloud, role, peering, verb):
    target = world.peerings[peering]
    client = browser(world, role)
    change = reverse("admin:peerings_peering_change", args=[target.pk])
    if verb == "read":
        response, reached = run(cloud, lambda: client.get(change))
    elif verb == "history":
        url = reverse("admin:peerings_statuschange_change", args=[world.changes[peering].pk])
        response, reached = run(cloud, lambda: client.get(url))
    elif verb == "update":
        response, reached = run(cloud, lambda: client.post(change, {"name": "renamed"}))
    elif verb == "delete row":
        url = reverse("admin:peerings_peering_delete", args=[target.pk])
        response, reached = run(cloud, lambda: client.post(url, {"post": "yes"}))
    else:
        data = {"action": ADMIN_ACTIONS[verb], "_selected_action": [target.pk], "post": "yes", "reason": "r"}
        changelist = reverse("admin:peerings_peering_changelist")
        response, reached = run(cloud, lambda: client.post(changelist, data))
    if reached:
        answer = Answer("sent", None, tuple(cloud.calls))
    else:
        answer = admin_answer(response, cloud)
        if verb in ADMIN_ACTIONS and answer.what == 302:
            errors = [m for m in page_messages(response) if m[0] == "error"]
            answer = answer._replace(detail=errors[0] if len(errors) == 1 else errors)
        if answer.what == 200:
            assert target.name in response.content.decode() or verb == "history"
    assert answer == expect_admin(role, peering, verb)
    target.refresh_from_db()
    assert (target.name, target.status) == (marker("peering", peering), PeeringStatus.PENDING_ACCEPTANCE)


# --- Tenants, their VPCs, requests from them --------------------------------------------------------------

TENANT_VERBS = ["api read", "api update", "api vpcs", "api create", "page vpcs", "page create", "admin read"]


def expect_tenant(role: str, tenant: str, verb: str) -> Answer:
    spec = ROLES[role]
    mine = visible(role, "tenant", tenant)
    if verb == "admin read":
        return expect_admin_gate(role) or Answer(302 if admin_hides(role, "tenant", tenant) else 200)
    if verb.startswith("api"):
        if not spec.signed_in:
            return Answer(401)
        if verb == "api update":
            return Answer(405)  # tenants are read-only in the API, whoever's they are
        if verb == "api create":
            # the request VPC is one of the tenant's, the peer is in an unknown project
            return sent(tenant, "list_vpcs", "create_peering") if mine else Answer(400, NOT_A_TENANT_MEMBER)
        if not mine:
            return Answer(404)
        return Answer(200, None, ((tenant, "list_vpcs"),) if verb == "api vpcs" else ())
    if not spec.signed_in:
        return Answer("login")
    # The request form lists the VPCs of the chosen tenant if it is the user's, else of their first.
    fallback = tenant if mine else own_tenant(role)
    listed = ((fallback, "list_vpcs"),) if fallback else ()
    if verb == "page vpcs":
        return Answer(200, None, listed)
    if mine:
        return sent(tenant, "list_vpcs", "create_peering")
    return Answer(200, "form error", listed)


@pytest.mark.parametrize(("role", "tenant", "verb"), list(itertools.product(ROLES, TENANTS, TENANT_VERBS)))
def test_tenant(world, cloud, role, tenant, verb):
    target = world.tenants[tenant]
    peer = {"vpc_id": str(uuid.uuid4()), "tenant_id": uuid.uuid4().hex}  # a project the portal does not know
    if verb.startswith("api"):
        client = api(world, role)
        if verb == "api create":
            body = {
                "name": "wall-new",
                "request_vpc_info": {"vpc_id": world.vpcs_of[tenant][0], "tenant_id": target.project_id},
                "accept_vpc_info": peer,
            }
            response, reached = run(
                cloud, lambda: client.post(reverse("api:peering-list"), body, format="json")
            )
        elif verb == "api update":
            url = reverse("api:tenant-detail", args=[target.pk])
            response, reached = run(cloud, lambda: client.patch(url, {"name": "x"}, format="json"))
        else:
            name = "api:tenant-detail" if verb == "api read" else "api:tenant-vpcs"
            response, reached = run(cloud, lambda: client.get(reverse(name, args=[target.pk])))
        if reached:
            answer = Answer("sent", None, tuple(cloud.calls))
        elif response.status_code == 400:
            answer = Answer(400, response.json()["error"]["fields"]["request_vpc_info.tenant_id"][0])
        else:
            answer = Answer(response.status_code, None, tuple(cloud.calls))
        if verb == "api read" and response.status_code == 200:
            assert response.json()["name"] == target.name
        if response is not None:
            assert_no_leak(role, response.content.decode())
    elif verb == "admin read":
        client = browser(world, role)
        response, reached = run(
            cloud, lambda: client.get(reverse("admin:peerings_tenant_change", args=[target.pk]))
        )
        answer = admin_answer(response, cloud)
    else:
        client = browser(world, role)
        url = reverse("peerings:request")
        if verb == "page vpcs":
            response, reached = run(cloud, lambda: client.get(url, {"tenant": target.pk}))
        else:
            data = {
                "tenant": target.pk,
                "request_vpc_id": world.vpcs_of[tenant][0],
                "accept_vpc_id": peer["vpc_id"],
                "accept_project_id": peer["tenant_id"],
                "name": "wall-new",
                "description": "",
            }
            response, reached = run(cloud, lambda: client.post(url, data))
        if reached:
            answer = Answer("sent", None, tuple(cloud.calls))
        elif response.status_code == 302:
            assert response.url.startswith(reverse("login") + "?next=")
            answer = Answer("login")
        else:
            form = response.context["form"]
            detail = "form error" if verb == "page create" and "tenant" in form.errors else None
            answer = Answer(response.status_code, detail, tuple(cloud.calls))
            assert_no_leak(role, response.content.decode(), tenant_directory=True)
    assert answer == expect_tenant(role, tenant, verb)


def test_a_request_naming_an_invisible_peerings_vpcs_learns_nothing_of_it(world, cloud):
    """The pair check comes after the ownership check: the answer is that of any VPC not one's own."""
    de = world.peerings["de"]
    body = {
        "name": "wall-probe",
        "request_vpc_info": {"vpc_id": str(de.requester_vpc_id)},
        "accept_vpc_info": {"vpc_id": str(de.accepter_vpc_id), "tenant_id": de.accepter_project_id},
    }
    response, reached = run(
        cloud, lambda: api(world, "A member").post("/api/v1/peerings/", body, format="json")
    )
    assert not reached
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"request_vpc_info.vpc_id": [REQUEST_VPC_NOT_OWNED]}
    assert cloud.calls == [("A", "list_vpcs")]


# --- History rows: cloud calls and status changes ---------------------------------------------------------

CALL_VERBS = ["api read", "api update", "api delete", "admin read", "admin update", "admin delete"]


def expect_call(role: str, call: str, verb: str) -> Answer:
    if verb.startswith("admin"):
        gate = expect_admin_gate(role)
        if gate is None and verb == "admin read" and admin_hides(role, "call", call):
            return Answer(302)
        return gate or Answer(200 if verb == "admin read" else 403)
    if not ROLES[role].signed_in:
        return Answer(401)
    if verb != "api read":
        return Answer(405)  # the history is read-only, whoever's it is
    return Answer(200) if visible(role, "call", call) else Answer(404)


@pytest.mark.parametrize(("role", "call", "verb"), list(itertools.product(ROLES, CALLS, CALL_VERBS)))
def test_call(world, cloud, role, call, verb):
    target = world.calls[call]
    if verb.startswith("api"):
        client = api(world, role)
        method = verb.split()[1].replace("read", "get").replace("update", "patch")
        url = reverse("api:call-detail", args=[target.pk])
        response, _ = run(cloud, lambda: getattr(client, method)(url, {}, format="json"))
        answer = Answer(response.status_code)
        if response.status_code == 200:
            assert response.json()["correlation_id"] == target.correlation_id
        assert_no_leak(role, response.content.decode())
    else:
        client = browser(world, role)
        if verb == "admin delete":
            url = reverse("admin:peerings_upstreamcall_delete", args=[target.pk])
            response, _ = run(cloud, lambda: client.post(url, {"post": "yes"}))
        else:
            url = reverse("admin:peerings_upstreamcall_change", args=[target.pk])
            response, _ = run(
                cloud, lambda: client.get(url) if verb == "admin read" else client.post(url, {})
            )
        answer = admin_answer(response, cloud)
        answer = answer._replace(cloud=())
    assert answer == expect_call(role, call, verb)
    assert UpstreamCall.objects.filter(pk=target.pk, correlation_id=target.correlation_id).exists()


# --- Lists: never an invisible row ------------------------------------------------------------------------

LISTS = {  # name: (front, URL, what the rows are)
    "page list": ("page", "peerings:list", "peering"),
    "page dashboard": ("page", "peerings:dashboard", "peering"),
    "api peerings": ("api", "api:peering-list", "peering"),
    "api tenants": ("api", "api:tenant-list", "tenant"),
    "api calls": ("api", "api:call-list", "call"),
    "admin peerings": ("admin", "admin:peerings_peering_changelist", "peering"),
    "admin tenants": ("admin", "admin:peerings_tenant_changelist", "tenant"),
    "admin calls": ("admin", "admin:peerings_upstreamcall_changelist", "call"),
    "admin status changes": ("admin", "admin:peerings_statuschange_changelist", "change"),
}
ROW_KEYS = {"peering": PEERINGS, "tenant": TENANTS, "call": CALLS, "change": PEERINGS}
#: Lists filtered on the objects of D and E: (front, URL, kind, query, the rows the filter matches).
FILTERED: dict[str, tuple[str, str, str, Callable[[World], dict], set[str]]] = {
    "page list of D": ("page", "peerings:list", "peering", lambda w: {"tenant": w.tenants["D"].pk}, {"de"}),
    "page list of de's VPC": (
        "page",
        "peerings:list",
        "peering",
        lambda w: {"vpc_id": w.peerings["de"].requester_vpc_id},
        {"de"},
    ),
    "api peerings of D": (
        "api",
        "api:peering-list",
        "peering",
        lambda w: {"tenant": w.tenants["D"].project_id},
        {"de"},
    ),
    "api peerings of de's VPC": (
        "api",
        "api:peering-list",
        "peering",
        lambda w: {"vpc_id": w.peerings["de"].accepter_vpc_id},
        {"de"},
    ),
    "api calls of de": (
        "api",
        "api:call-list",
        "call",
        lambda w: {"peering": w.peerings["de"].pk},
        {"D for de"},
    ),
    "api calls of D": (
        "api",
        "api:call-list",
        "call",
        lambda w: {"tenant": w.tenants["D"].pk},
        {"D for de", "D alone"},
    ),
}


def row_marker(kind: str, key: str) -> str:
    return marker(kind, key)


def expect_list(role: str, name: str) -> Answer:
    front, _, kind = LISTS[name]
    if front == "admin":
        gate = expect_admin_gate(role)
        rows = [row_marker(kind, key) for key in ROW_KEYS[kind] if not admin_hides(role, kind, key)]
        return gate or Answer(200, sorted(rows))
    if not ROLES[role].signed_in:
        return Answer("login") if front == "page" else Answer(401)
    return Answer(200, sorted(row_marker(kind, k) for k in ROW_KEYS[kind] if visible(role, kind, k)))


@pytest.mark.parametrize(("role", "name"), list(itertools.product(ROLES, LISTS)))
def test_list(world, cloud, role, name):
    front, url_name, kind = LISTS[name]
    client = api(world, role) if front == "api" else browser(world, role)
    response, reached = run(cloud, lambda: client.get(reverse(url_name)))
    assert not reached
    if response.status_code == 302:
        login = reverse("admin:login") if front == "admin" else reverse("login")
        assert response.url.startswith(login + "?next=")
        answer = Answer("admin login" if front == "admin" else "login")
    elif response.status_code == 200:
        body = response.content.decode()
        # A call's row names its peering: count the rows of the listed kind only.
        answer = Answer(200, sorted(m for k in ROW_KEYS[kind] if (m := row_marker(kind, k)) in body))
        if front != "admin":
            assert_no_leak(role, body)
    else:
        answer = Answer(response.status_code)
    assert answer == expect_list(role, name)
    assert cloud.calls == []


@pytest.mark.parametrize(("role", "name"), list(itertools.product(ROLES, FILTERED)))
def test_filtered_list(world, cloud, role, name):
    """Filtering on another tenant's objects finds nothing, rather than an error that would tell."""
    front, url_name, kind, query, matches = FILTERED[name]
    client = api(world, role) if front == "api" else browser(world, role)
    response, _ = run(cloud, lambda: client.get(reverse(url_name), query(world)))
    if not ROLES[role].signed_in:
        assert response.status_code == (302 if front == "page" else 401)
        return
    assert response.status_code == 200
    body = response.content.decode()
    found = sorted(k for k in ROW_KEYS[kind] if marker(kind, k) in body)
    assert found == sorted(k for k in matches if visible(role, kind, k))
    assert_no_leak(role, body)


@pytest.mark.parametrize("role", [r for r in ROLES if ROLES[r].signed_in])
def test_an_invisible_peering_answers_as_one_that_does_not_exist(world, cloud, role):
    """No front tells a peering it hides from one that is not there: same status, same body."""
    hidden = world.peerings["de"].pk
    assert not visible(role, "peering", "de")
    missing = max(p.pk for p in world.peerings.values()) + 1000
    client, browser_ = api(world, role), browser(world, role)
    for method, url_name, body in API_VERBS.values():
        answers = []
        for pk in (hidden, missing):
            response = getattr(client, method)(reverse(url_name, args=[pk]), body, format="json")
            answers.append((response.status_code, response.json()))
        assert answers[0] == answers[1], url_name
    for name, method in [("detail", "get"), ("edit", "post"), ("accept", "post"), ("delete", "post")]:
        answers = []
        for pk in (hidden, missing):
            response = getattr(browser_, method)(reverse(f"peerings:{name}", args=[pk]))
            answers.append((response.status_code, response.content.decode().replace(str(pk), "<id>")))
        assert answers[0] == answers[1], name
    assert cloud.calls == []


# --- More endpoints: the history exports ------------------------------------------------------------------
#
# Each endpoint that shows or sends tenant data beyond the lists above has a row here: a name,
# the kind of object it shows ("peering", "tenant", "call", "change" or a new kind added to
# ``visible``/``ROW_KEYS``), the front ("page" or "api"), and a function
# ``(world, role) -> (response, body, markers found in it)``. ``test_extra_endpoint`` then expects
# exactly the role's visible rows, 401/login otherwise. (Webhook endpoints are configured in the
# admin only: ``tests/test_admin_scoping.py`` walls them.)


def body_of(response: Any) -> str:
    """A response's body, streamed (an export) or not."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _export(url_name: str, kind: str, fmt: str) -> Callable[[World, str], tuple[Any, str, list[str]]]:
    """Probe ``GET <url_name>?format=<fmt>`` (a streamed export of the history) as a role."""

    def probe(world: World, role: str) -> tuple[Any, str, list[str]]:
        response = api(world, role).get(reverse(url_name), {"format": fmt})
        body = body_of(response)
        return response, body, [m for k in ROW_KEYS[kind] if (m := row_marker(kind, k)) in body]

    return probe


EXTRA_CELLS: list[tuple[str, str, str, Callable[[World, str], tuple[Any, str, list[str]]]]] = [
    ("api calls export csv", "call", "api", _export("api:call-export", "call", "csv")),
    ("api calls export jsonl", "call", "api", _export("api:call-export", "call", "jsonl")),
    ("api status changes export csv", "change", "api", _export("api:status-change-export", "change", "csv")),
    (
        "api status changes export jsonl",
        "change",
        "api",
        _export("api:status-change-export", "change", "jsonl"),
    ),
]


@pytest.mark.parametrize(
    ("role", "cell"),
    [pytest.param(role, cell, id=f"{role}-{cell[0]}") for role in ROLES for cell in EXTRA_CELLS],
)
def test_extra_endpoint(world, cloud, role, cell):
    name, kind, front, probe = cell
    response, body, found = probe(world, role)
    if not ROLES[role].signed_in:
        assert response.status_code in ((302,) if front == "page" else (401,)), name
        return
    assert response.status_code == 200, name
    assert sorted(found) == sorted(row_marker(kind, k) for k in ROW_KEYS[kind] if visible(role, kind, k)), (
        name
    )
    assert_no_leak(role, body)


# --- The test can fail ------------------------------------------------------------------------------------


def test_the_rules_allow_and_refuse_each_verb_somewhere():
    """Guard against tables that pass because every cell is refused, or every cell allowed."""
    for verb in WRITES:
        outcomes = {may(role, peering, verb) for role in ROLES for peering in PEERINGS}
        assert outcomes == {True, False}, verb
    for kind, keys in ROW_KEYS.items():
        seen = {visible(role, kind, key) for role in ROLES for key in keys}
        assert seen == {True, False}, kind


# --- Routes of an active peering: each side's, only by that side's members, with its keys ----------------

SIDE_TENANT = {"requester": 0, "accepter": 1}  # index into PEERINGS[peering]


def route_side_of(role: str, peering: str, side: str) -> bool:
    """Whether ``role`` is a member (any role) of ``side``'s tenant of ``peering``."""
    return PEERINGS[peering][SIDE_TENANT[side]] in ROLES[role].tenants


@pytest.fixture
def routed(world) -> dict[str, dict[str, PeeringRoute]]:
    """Every peering made ACTIVE (in this test only), with one applied route in each side's VPC."""
    routes: dict[str, dict[str, PeeringRoute]] = {}
    for index, (key, peering) in enumerate(world.peerings.items(), start=1):
        Peering.objects.filter(pk=peering.pk).update(
            status=PeeringStatus.ACTIVE,
            requester_vpc_cidr=f"10.{index}.0.0/16",
            accepter_vpc_cidr=f"10.9{index}.0.0/16",
        )
        peering.refresh_from_db()
        routes[key] = {
            side: PeeringRoute.objects.create(
                peering=peering,
                side=side,
                tenant=getattr(peering, f"{side}_tenant"),
                vpc_id=getattr(peering, f"{side}_vpc_id"),
                destination=f"10.{index}{SIDE_TENANT[side]}.0.0/24",
                upstream_id=str(uuid.uuid4()),
                state="applied",
            )
            for side in SIDE_TENANT
        }
    return routes


ROUTE_WRITES = ["apply requester", "apply accepter", "remove requester", "remove accepter"]


def expect_route(role: str, peering: str, verb: str, front: str) -> Answer:
    if not ROLES[role].signed_in:
        return Answer("login" if front == "page" else 401)
    if not visible(role, "peering", peering):
        return Answer(404)
    if verb == "read":
        return Answer(200)
    if verb == "plan":  # read with the keys of the user's own side
        return sent(PEERINGS[peering][SIDE_TENANT[side(role, peering)[0]]], "list_routes")
    on = verb.split()[1]
    if route_side_of(role, peering, on):
        return sent(PEERINGS[peering][SIDE_TENANT[on]], "list_routes")
    return Answer(403 if front == "api" else 302, NOT_YOUR_SIDE)


@pytest.mark.parametrize(
    ("role", "peering", "verb"), list(itertools.product(ROLES, PEERINGS, ["read", "plan", *ROUTE_WRITES]))
)
def test_api_routes(world, cloud, routed, role, peering, verb):
    target = world.peerings[peering]
    client = api(world, role)
    if verb == "read":
        request = lambda: client.get(reverse("api:peering-routes", args=[target.pk]))  # noqa: E731
    elif verb == "plan":
        request = lambda: client.get(reverse("api:peering-routes-plan", args=[target.pk]))  # noqa: E731
    elif verb.startswith("apply"):
        body = {"side": verb.split()[1], "destinations": ["192.0.2.0/24"]}
        request = lambda: client.post(reverse("api:peering-routes", args=[target.pk]), body, format="json")  # noqa: E731
    else:
        route = routed[peering][verb.split()[1]]
        url = reverse("api:peering-route-remove", args=[target.pk, route.pk])
        request = lambda: client.delete(url)  # noqa: E731
    response, reached = run(cloud, request)
    if reached:
        answer = Answer("sent", None, tuple(cloud.calls))
    elif response.status_code == 403:
        answer = Answer(403, response.json()["error"]["message"], tuple(cloud.calls))
    else:
        answer = Answer(response.status_code, None, tuple(cloud.calls))
        assert_no_leak(role, response.content.decode())
    if answer.what == 200:  # both sides' routes, to members of either side
        assert len(response.json()["results"]) == 2
    assert answer == expect_route(role, peering, verb, "api")
    assert set(PeeringRoute.objects.filter(peering=target).values_list("state", flat=True)) == {"applied"}


@pytest.mark.parametrize(
    ("role", "peering", "verb"), list(itertools.product(ROLES, PEERINGS, ["plan", *ROUTE_WRITES]))
)
def test_pages_routes(world, cloud, routed, role, peering, verb):
    target = world.peerings[peering]
    client = browser(world, role)
    if verb == "plan":
        request = lambda: client.get(reverse("peerings:routes", args=[target.pk]))  # noqa: E731
    elif verb.startswith("apply"):
        data = {"side": verb.split()[1], "destinations": "192.0.2.0/24"}
        request = lambda: client.post(reverse("peerings:routes", args=[target.pk]), data)  # noqa: E731
    else:
        data = {"route": routed[peering][verb.split()[1]].pk}
        request = lambda: client.post(reverse("peerings:routes-remove", args=[target.pk]), data)  # noqa: E731
    response, reached = run(cloud, request)
    if reached:
        answer = Answer("sent", None, tuple(cloud.calls))
    elif response.status_code == 302 and response.url.startswith(reverse("login") + "?next="):
        answer = Answer("login")
    elif response.status_code == 302:
        assert response.url == reverse("peerings:detail", args=[target.pk])
        (error,) = [m for level, m in page_messages(response) if level == "error"]
        answer = Answer(302, error)
    else:
        answer = Answer(response.status_code, None, tuple(cloud.calls))
    assert answer == expect_route(role, peering, verb, "page")
    assert set(PeeringRoute.objects.filter(peering=target).values_list("state", flat=True)) == {"applied"}


def test_pages_peering_shows_each_side_its_own_route_buttons_only(world, cloud, routed):
    """The peering's page offers removing a route only to members of that route's side."""
    target = world.peerings["ab"]
    for role, mine in (("A member", "requester"), ("B approver", "accepter")):
        body = browser(world, role).get(reverse("peerings:detail", args=[target.pk])).content.decode()
        for side, route in routed["ab"].items():
            button = f'name="route" value="{route.pk}"'
            assert (button in body) == (side == mine), (role, side)
            assert route.destination in body  # both sides' routes are listed


ROUTE_ADMIN_ACTIONS = {"apply": "apply_routes_selected", "remove": "remove_routes_selected"}


def expect_route_admin(role: str, peering: str, verb: str) -> Answer:
    gate = expect_admin_gate(role)
    if gate is not None:
        return gate
    if admin_hides(role, "peering", peering):
        return Answer(302, [])
    where = side(role, peering)
    if where is not None:  # the user's own side, with its keys
        return sent(PEERINGS[peering][SIDE_TENANT[where[0]]], "list_routes")
    verb_text = "apply the routes of" if verb == "apply" else "remove the routes of"
    return Answer(
        302, ("error", f"Could not {verb_text} “{marker('peering', peering)}”: {NOT_A_MEMBER} {MEMBER_HINT}")
    )


@pytest.mark.parametrize(
    ("role", "peering", "verb"), list(itertools.product(ROLES, PEERINGS, ROUTE_ADMIN_ACTIONS))
)
def test_admin_routes(world, cloud, routed, role, peering, verb):
    target = world.peerings[peering]
    client = browser(world, role)
    data = {"action": ROUTE_ADMIN_ACTIONS[verb], "_selected_action": [target.pk], "post": "yes"}
    response, reached = run(cloud, lambda: client.post(reverse("admin:peerings_peering_changelist"), data))
    if reached:
        answer = Answer("sent", None, tuple(cloud.calls))
    else:
        answer = admin_answer(response, cloud)
        if answer.what == 302:
            errors = [m for m in page_messages(response) if m[0] == "error"]
            answer = answer._replace(detail=errors[0] if len(errors) == 1 else errors)
    assert answer == expect_route_admin(role, peering, verb)


# --- Requests held for approval in the portal: the requester's approvers (or a portal admin) decide ------

#: The held verbs: approve sends the request to the cloud with the requester's keys, decline closes it
#: with a reason (nothing sent), withdraw (delete) takes it back (nothing sent, the cloud never had it).
HELD_VERBS = ["approve", "decline", "withdraw"]
HELD_OUTCOME = {"decline": PeeringStatus.DECLINED, "withdraw": PeeringStatus.DELETED}


@pytest.fixture
def held(world) -> None:
    """Every peering held for approval (in this test only): not in the cloud yet, no cloud id."""
    for peering in world.peerings.values():
        Tenant.objects.filter(pk=peering.requester_tenant_id).update(approval_policy=ApprovalPolicy.HOLD)
        Peering.objects.filter(pk=peering.pk).update(status=PeeringStatus.AWAITING_APPROVAL, upstream_id=None)


def may_held(role: str, peering: str, verb: str) -> bool:
    """The requester's approvers, or a portal admin, approve or decline; the requester's members withdraw."""
    spec, requester = ROLES[role], PEERINGS[peering][0]
    if verb == "withdraw":
        return requester in spec.tenants
    return spec.superuser or spec.tenants.get(requester) == AP


def held_refusal(role: str, peering: str, verb: str) -> str:
    # The accepter's side was never sent a held request: its members are outsiders to it.
    return NOT_A_REQUESTER_APPROVER if verb != "withdraw" else NOT_A_MEMBER


def held_visible(role: str, peering: str) -> bool:
    """A held request is its requester's alone: the peer has not been asked yet."""
    return PEERINGS[peering][0] in ROLES[role].tenants


def expect_held(role: str, peering: str, verb: str, front: str) -> Answer:
    requester = PEERINGS[peering][0]
    if front == "admin":
        gate = expect_admin_gate(role)
        if gate is not None:
            return gate
        if admin_hides(role, "peering", peering):
            return Answer(302, [])
    elif not ROLES[role].signed_in:
        return Answer("login" if front == "page" else 401)
    elif not held_visible(role, peering):
        return Answer(404)
    if may_held(role, peering, verb):
        # Approving reaches the cloud as a create with the requester's keys; the others end it here.
        return sent(requester, "create_peering") if verb == "approve" else Answer("done", HELD_OUTCOME[verb])
    why = held_refusal(role, peering, verb)
    if front == "api":
        return Answer(403, why)
    if front == "page":
        return Answer(302, ("error", why))
    hint = GATE_HINT if verb != "withdraw" else MEMBER_HINT
    action = "delete" if verb == "withdraw" else verb
    return Answer(302, ("error", f"Could not {action} “{marker('peering', peering)}”: {why} {hint}"))


HELD_PAGE = {"approve": ("approve", {"approve-reason": ""}), "decline": ("decline", {"decline-reason": "no"})}
HELD_API = {"approve": ("post", "api:peering-approve"), "decline": ("post", "api:peering-decline")}
HELD_ADMIN = {
    "approve": "approve_selected",
    "decline": "decline_selected",
    "withdraw": "delete_selected_in_cloud",
}


def held_answer(response: Any, reached: bool, cloud: FakeCloud, target: Peering, front: str) -> Answer:
    """What a held cell answered, read the same way on each front."""
    if reached:
        return Answer("sent", None, tuple(cloud.calls))
    target.refresh_from_db()
    if target.status != PeeringStatus.AWAITING_APPROVAL:  # decided or withdrawn here, nothing sent
        assert not cloud.calls
        return Answer("done", target.status)
    if front == "admin":
        answer = admin_answer(response, cloud)
        if answer.what == 302:
            errors = [m for m in page_messages(response) if m[0] == "error"]
            answer = answer._replace(detail=errors[0] if len(errors) == 1 else errors)
        return answer
    if response.status_code == 302 and response.url.startswith(reverse("login") + "?next="):
        return Answer("login")
    if response.status_code == 302:
        assert response.url == reverse("peerings:detail", args=[target.pk])
        (error,) = [m for m in page_messages(response) if m[0] == "error"]
        return Answer(302, error, tuple(cloud.calls))
    if response.status_code == 403:
        return Answer(403, response.json()["error"]["message"], tuple(cloud.calls))
    assert_no_leak("anonymous", response.content.decode())  # 401 and 404 name nothing
    return Answer(response.status_code, None, tuple(cloud.calls))


@pytest.mark.parametrize(
    ("role", "peering", "verb", "front"),
    list(itertools.product(ROLES, PEERINGS, HELD_VERBS, ["page", "api", "admin"])),
)
def test_held(world, cloud, held, role, peering, verb, front):
    target = world.peerings[peering]
    if front == "page":
        client = browser(world, role)
        name, data = HELD_PAGE.get(verb, ("delete", {}))
        request = lambda: client.post(reverse(f"peerings:{name}", args=[target.pk]), data)  # noqa: E731
    elif front == "api":
        client = api(world, role)
        method, url_name = HELD_API.get(verb, ("delete", "api:peering-detail"))
        body = {"reason": "no"} if verb == "decline" else None
        request = lambda: getattr(client, method)(reverse(url_name, args=[target.pk]), body, format="json")  # noqa: E731
    else:
        client = browser(world, role)
        data = {"action": HELD_ADMIN[verb], "_selected_action": [target.pk], "post": "yes", "reason": "no"}
        request = lambda: client.post(reverse("admin:peerings_peering_changelist"), data)  # noqa: E731
    response, reached = run(cloud, request)
    assert held_answer(response, reached, cloud, target, front) == expect_held(role, peering, verb, front)


def expect_queue(role: str, status: str) -> Answer:
    """The queue lists what waits for the role's decision, within its walls (superusers included)."""
    if not ROLES[role].signed_in:
        return Answer("login")
    tenants = ROLES[role].tenants
    decider = 0 if status == PeeringStatus.AWAITING_APPROVAL else 1  # the requester's / accepter's approvers
    rows = [key for key, sides in PEERINGS.items() if tenants.get(sides[decider]) == AP]
    return Answer(200, sorted(marker("peering", key) for key in rows))


@pytest.mark.parametrize(
    ("role", "status"),
    list(itertools.product(ROLES, [PeeringStatus.PENDING_ACCEPTANCE, PeeringStatus.AWAITING_APPROVAL])),
)
def test_queue(world, cloud, request, role, status):
    if status == PeeringStatus.AWAITING_APPROVAL:
        request.getfixturevalue("held")
    response = browser(world, role).get(reverse("peerings:queue"))
    if response.status_code == 302:
        assert response.url.startswith(reverse("login") + "?next=")
        answer = Answer("login")
    else:
        body = response.content.decode()
        assert_no_leak(role, body)
        answer = Answer(
            response.status_code,
            sorted(marker("peering", k) for k in PEERINGS if marker("peering", k) in body),
        )
    assert answer == expect_queue(role, status)


def test_the_held_rules_allow_and_refuse_each_verb_somewhere():
    for verb in HELD_VERBS:
        assert {may_held(role, peering, verb) for role in ROLES for peering in PEERINGS} == {True, False}, (
            verb
        )
