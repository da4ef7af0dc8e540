"""API tokens and preferences in the admin: each user's own; superusers see and make everyone's.

A token's key is shown once, on the page that follows its creation. A staff user who is not a
superuser lists, revokes and makes only their own tokens (the user is theirs, whatever is posted),
and sees only their own preferences. Users keep Django's admin (superusers only), with one more
action (revoke all of the selected users' API tokens) and a password form that offers to revoke
them (``accounts.passwords``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from accounts.models import PREFIX_LENGTH, ApiToken, Preferences, digest, new_key
from accounts.passwords import PortalAdminPasswordChangeForm
from peerings.admin_scope import sees_all


class OwnRowsAdmin(admin.ModelAdmin):
    """Rows that belong to one user (``user``): a non-superuser sees and makes only their own."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        return queryset if sees_all(request.user) else queryset.filter(user=request.user)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if obj is None and not sees_all(request.user):
            fields.remove("user")  # set to the signed-in user by save_model
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not sees_all(request.user) and "user" not in fields:
            fields.append("user")
        return fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change and not sees_all(request.user):
            obj.user = request.user
        super().save_model(request, obj, form, change)


User = get_user_model()


@admin.register(ApiToken)
class ApiTokenAdmin(OwnRowsAdmin):
    list_display = ["prefix_shown", "name", "user", "created_at", "expires_at", "last_used_at", "revoked"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "expires_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    raw_id_fields = ["user"]
    actions = ["revoke_tokens"]

    @admin.display(description="key prefix", ordering="prefix")
    def prefix_shown(self, token: ApiToken) -> str:
        return f"{token.prefix}…"

    @admin.display(boolean=True, description="revoked", ordering="revoked_at")
    def revoked(self, token: ApiToken) -> bool:
        return token.revoked_at is not None

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return ["user", "name", "expires_at"] if sees_all(request.user) else ["name", "expires_at"]
        return ["user", "name", "prefix_shown", "created_at", "expires_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return []
        return ["user", "prefix_shown", "created_at", "last_used_at", "revoked_at"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("expires_at", timezone.now() + timedelta(days=settings.API_TOKEN_DEFAULT_DAYS))
        return initial

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if not change:
            key = new_key()
            obj.prefix, obj.digest = key[:PREFIX_LENGTH], digest(key)
            request._new_api_token_key = key  # shown once by response_add, never stored
        super().save_model(request, obj, form, change)

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: Any = None
    ) -> HttpResponse:
        key = getattr(request, "_new_api_token_key", None)
        if key is None:  # pragma: no cover - save_model always sets it
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": "API token created",
            "opts": self.opts,
            "token": obj,
            "key": key,
        }
        response = TemplateResponse(request, "admin/accounts/apitoken/created.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke selected tokens")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)


@admin.register(Preferences)
class PreferencesAdmin(OwnRowsAdmin):
    list_display = ["user", "time_zone"]
    search_fields = ["user__username", "time_zone"]
    raw_id_fields = ["user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One row per user: a non-superuser adds theirs only while they have none.
        if not super().has_add_permission(request):
            return False
        return sees_all(request.user) or not Preferences.objects.filter(user=request.user).exists()


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """Django's user admin; a superuser may revoke every API token of the selected users."""

    change_password_form = PortalAdminPasswordChangeForm
    actions = ["revoke_api_tokens"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    @admin.action(description="Revoke all API tokens of the selected users", permissions=["revoke"])
    def revoke_api_tokens(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = ApiToken.objects.filter(user__in=queryset).revoke()
        self.message_user(request, f"{count} API token(s) revoked.", messages.SUCCESS)
