"""The portal's own password pages: change, and reset by e-mail, rate-limited.

Django's views with the portal's templates and forms (``accounts.passwords``), and for the
reset: links built from ``PORTAL_BASE_URL``, never from the request's ``Host`` header, and
requests limited per client address (``PASSWORD_RESET_RATE_PER_ADDRESS``: past it the page
answers 429) and per e-mail address (``PASSWORD_RESET_RATE_PER_ACCOUNT``: past it nothing more
is sent, and the page reads as usual, so it tells nobody whether the account exists).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse_lazy

from accounts.lockout import describe_duration
from accounts.passwords import PortalPasswordChangeForm, PortalSetPasswordForm
from portal.middleware import client_ip
from portal.ratelimit import Limit

__all__ = ["PasswordChangeView", "PasswordResetConfirmView", "PasswordResetView", "reset_limits"]

RESET_LIMITED = "Too many password-reset requests from your address: try again in {wait}."


def reset_limits() -> tuple[Limit, Limit]:
    """The password reset's limits: per client address, per e-mail address."""
    return (
        Limit.from_rate("password-reset-address", settings.PASSWORD_RESET_RATE_PER_ADDRESS),
        Limit.from_rate("password-reset-account", settings.PASSWORD_RESET_RATE_PER_ACCOUNT),
    )


def _revoked_message(request: Any, form: Any) -> None:
    if form.revoked_tokens:
        messages.info(request, f"{form.revoked_tokens} API token(s) of the account were revoked.")


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by e-mail address."""

    form_class = PasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        by_address, by_account = reset_limits()
        address = client_ip(self.request) or ""
        if by_address.exceeded(address):
            wait = describe_duration(timedelta(seconds=by_address.retry_after()))
            form.add_error(None, RESET_LIMITED.format(wait=wait))
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(by_address.retry_after())
            return response
        by_address.hit(address)
        if by_account.hit(form.cleaned_data["email"].strip().lower()) <= by_account.count:
            base = urlsplit(settings.PORTAL_BASE_URL)
            form.save(
                domain_override=base.netloc,
                use_https=base.scheme == "https",
                token_generator=self.token_generator,
                from_email=self.from_email,
                email_template_name=self.email_template_name,
                subject_template_name=self.subject_template_name,
                request=self.request,
                extra_email_context={"base_url": settings.PORTAL_BASE_URL},
            )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link's page: a new password, and the API tokens revoked unless told otherwise."""

    form_class = PortalSetPasswordForm

    def form_valid(self, form: PortalSetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        _revoked_message(self.request, form)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """The signed-in user's password change, offering to revoke their API tokens."""

    form_class = PortalPasswordChangeForm
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form: PortalPasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        _revoked_message(self.request, form)
        return response
