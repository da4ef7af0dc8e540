from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Company sign-in"
    default_auto_field = "django.db.models.BigAutoField"
