from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and API tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate, post_save, pre_save

        from accounts.deactivation import note_active_before_save, revoke_tokens_of_disabled_user
        from accounts.groups import ensure_approvers_group
        from accounts.middleware import remember_time_zone
        from peerings.admin_scope import wall_global_admins

        user_logged_in.connect(remember_time_zone, dispatch_uid="accounts.remember_time_zone")
        # The "Approvers" group (accounts.groups): after every migrate, whichever app migrated last.
        post_migrate.connect(ensure_approvers_group, dispatch_uid="accounts.approvers_group")
        user_model = get_user_model()
        pre_save.connect(note_active_before_save, sender=user_model, dispatch_uid="accounts.note_active")
        post_save.connect(
            revoke_tokens_of_disabled_user, sender=user_model, dispatch_uid="accounts.revoke_tokens"
        )
        # Users, groups, sign-in lockouts, the simulator: global settings, the superusers' alone
        # (their admins are registered by now: the admin app comes first and loads them all).
        wall_global_admins()
