from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for a fresh machine: simulator accounts and the matching portal tenants."""

    name = "demo"
