"""Password forms of the pages (and the admin's user page): a new password may revoke API tokens.

A password changed because it may have leaked does not help while the tokens made with the
account keep working. The change and reset-confirm forms therefore carry a "revoke the API
tokens" box, ticked by default; a password an admin sets on a user's admin page always revokes
them; and a superuser can revoke all of a user's tokens from the admin's user list
(``accounts.admin``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AdminPasswordChangeForm, PasswordChangeForm, SetPasswordForm

from accounts.models import ApiToken

__all__ = [
    "PortalAdminPasswordChangeForm",
    "PortalPasswordChangeForm",
    "PortalSetPasswordForm",
    "revoke_api_tokens",
]


def revoke_api_tokens(user: Any) -> int:
    """Revoke every API token of ``user``; returns how many were still valid."""
    return ApiToken.objects.filter(user=user).revoke()


class RevokeTokensMixin(forms.Form):
    """A ``revoke_api_tokens`` box (ticked by default), acted on when the password is saved."""

    revoke_api_tokens = forms.BooleanField(
        label="Also revoke the API tokens",
        required=False,
        initial=True,
        help_text="Tools using a token of this account stop working until they get a new one.",
    )

    #: How many tokens the last save revoked (``None``: the box was not ticked).
    revoked_tokens: int | None = None

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=commit)
        if commit and self.cleaned_data.get("revoke_api_tokens"):
            self.revoked_tokens = revoke_api_tokens(user)
        return user


class PortalPasswordChangeForm(RevokeTokensMixin, PasswordChangeForm):
    """The signed-in user's own password change."""


class PortalSetPasswordForm(RevokeTokensMixin, SetPasswordForm):
    """A new password from a reset link."""


class PortalAdminPasswordChangeForm(AdminPasswordChangeForm):
    """A user's password set by an admin (the user page's "Change password"): the user's API
    tokens are always revoked (Django's admin page has no room for the box)."""

    revoked_tokens: int | None = None

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=commit)
        if commit:
            self.revoked_tokens = revoke_api_tokens(user)
        return user
