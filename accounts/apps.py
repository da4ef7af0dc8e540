from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and API tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.middleware import remember_time_zone
        from peerings.admin_scope import wall_global_admins

        user_logged_in.connect(remember_time_zone, dispatch_uid="accounts.remember_time_zone")
        # Users, groups, sign-in lockouts, the simulator: global settings, the superusers' alone
        # (their admins are registered by now: the admin app comes first and loads them all).
        wall_global_admins()
