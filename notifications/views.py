"""The preferences page: each user turns their e-mail notifications on or off."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.views.generic import FormView

from notifications.models import NotificationPreference


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["email_enabled"]
        help_texts = {
            "email_enabled": "Requests waiting for your decision, reminders before they expire, and "
            "what happened to your own requests."
        }


class PreferencesView(LoginRequiredMixin, FormView):
    template_name = "notifications/preferences.html"
    form_class = PreferenceForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = NotificationPreference.objects.filter(user=self.request.user).first() or (
            NotificationPreference(user=self.request.user)
        )
        return kwargs

    def form_valid(self, form):
        form.save()
        state = "on" if form.instance.email_enabled else "off"
        messages.success(self.request, f"E-mail notifications are {state}.")
        return redirect("notifications:preferences")
