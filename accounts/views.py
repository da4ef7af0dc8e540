"""The user's preferences page: the time zone times are shown in."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from accounts.middleware import SESSION_KEY, user_time_zone
from accounts.models import Preferences, time_zone_choices

__all__ = ["PreferencesForm", "PreferencesView"]


class PreferencesForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=time_zone_choices,
        help_text="Times in the pages and the admin are shown in this zone, with its name.",
    )


class PreferencesView(LoginRequiredMixin, View):
    template_name = "accounts/preferences.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = PreferencesForm(initial={"time_zone": user_time_zone(request.user)})
        return render(request, self.template_name, {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PreferencesForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form})
        zone = form.cleaned_data["time_zone"]
        Preferences.objects.update_or_create(user=request.user, defaults={"time_zone": zone})
        request.session[SESSION_KEY] = zone
        messages.success(request, f"Times are now shown in {zone}.")
        return redirect("preferences")
