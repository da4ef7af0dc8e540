"""``manage.py create_api_token USERNAME --name NAME [--days N | --no-expiry]``: print a new key once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user and print its key (only the key, on standard output)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for.")
        expiry = parser.add_mutually_exclusive_group()
        expiry.add_argument(
            "--days", type=int, help="Days until it expires (default API_TOKEN_DEFAULT_DAYS)."
        )
        expiry.add_argument("--no-expiry", action="store_true", help="A token that never expires.")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: options["username"]})
        except User.DoesNotExist:
            raise CommandError(f"No user {options['username']!r}.") from None
        days = options["days"] if options["days"] is not None else settings.API_TOKEN_DEFAULT_DAYS
        if days is not None and days < 1 and not options["no_expiry"]:
            raise CommandError("--days must be at least 1.")
        expires_at = None if options["no_expiry"] else timezone.now() + timedelta(days=days)
        token, key = ApiToken.objects.create_token(user, name=options["name"], expires_at=expires_at)
        until = f"until {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "without expiry"
        self.stderr.write(f"Token {token.prefix}… ({token.name}) for {user}, {until}. The key is shown once:")
        self.stdout.write(key)
