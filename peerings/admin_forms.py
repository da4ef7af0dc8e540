"""Forms of the admin: tenant keys that are written but never shown, and a decision reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from peerings.models import Tenant
from peerings.rules.limits import REASON_MAX_LENGTH
from peerings.secrets import Secret
from peerings.validation import validate_project_id

__all__ = ["PeeringActionForm", "TenantAdminForm", "TenantNameForm", "UsernameField", "WriteOnlySecretField"]

KEEP_HELP = "Leave blank to keep the stored value. It is stored encrypted and never shown again."
NEW_HELP = "Stored encrypted and never shown again."


class WriteOnlySecretField(forms.CharField):
    """A password box that never renders the stored value; blank means "unchanged"."""

    widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})

    def has_changed(self, initial: Any, data: Any) -> bool:
        # The initial value is never sent to the browser, so only a typed value is a change.
        return bool(data)


class TenantAdminForm(forms.ModelForm):
    """A tenant's settings; its access key and secret key are write-only."""

    access_key = WriteOnlySecretField(label="Access key (AK)", max_length=128)
    secret_key = WriteOnlySecretField(label="Secret key (SK)", max_length=256)
    endpoint = Tenant._meta.get_field("endpoint").formfield(assume_scheme="https")

    class Meta:
        model = Tenant
        fields = [
            "name",
            "project_id",
            "region",
            "endpoint",
            "separate_duties",
            "approval_policy",
            "org_unit",
            "auto_approve_same_org_unit",
            "access_key",
            "secret_key",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        adding = self.instance._state.adding
        for name in ("access_key", "secret_key"):
            self.initial.pop(name, None)  # never carry the stored secret into the form
            if name not in self.fields:  # not a superuser: the admin leaves the keys out
                continue
            self.fields[name].required = adding
            self.fields[name].help_text = NEW_HELP if adding else KEEP_HELP

    def clean_project_id(self) -> str:
        return validate_project_id(self.cleaned_data.get("project_id"))

    def _secret(self, name: str) -> Secret:
        value = self.cleaned_data.get(name, "")
        if value:
            return Secret(value)
        return getattr(self.instance, name)  # blank on change: keep the stored value

    def clean_access_key(self) -> Secret:
        return self._secret("access_key")

    def clean_secret_key(self) -> Secret:
        return self._secret("secret_key")


class TenantNameForm(forms.ModelForm):
    """What a tenant's approver changes in the admin (its settings are the superusers')."""

    class Meta:
        model = Tenant
        fields = ["name"]


class UsernameField(forms.ModelChoiceField):
    """An active user named by their exact user name: for staff who are not superusers, who have
    no directory of users to browse (the users' admin is the superusers')."""

    widget = forms.TextInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "The user's exact user name.")
        users = get_user_model().objects.filter(is_active=True)
        super().__init__(queryset=users, to_field_name=get_user_model().USERNAME_FIELD, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):  # a saved membership's user id: shown as the name
            users = get_user_model().objects.filter(pk=value)
            return users.values_list(get_user_model().USERNAME_FIELD, flat=True).first() or ""
        return super().prepare_value(value)


class PeeringActionForm(forms.Form):
    """The intermediate page of a state-changing admin action, with an optional reason."""

    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in each peering's status history.",
    )

    def __init__(self, *args: Any, reason_required: bool = False, show_reason: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not show_reason:
            del self.fields["reason"]
        else:
            self.fields["reason"].required = reason_required
