"""API tokens, stored hashed: several named tokens per user, with expiry, revocation and last use.

A key is shown once, when it is made (``ApiToken.objects.create_token``); the database keeps
only its SHA-256 and its first characters (``prefix``, not secret: enough to find the row
and to tell tokens apart in lists). Clients send ``Authorization: Token <key>``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

__all__ = ["PREFIX_LENGTH", "ApiToken", "Preferences", "digest", "keep_matching", "time_zone_choices"]

#: Characters of the key kept in clear to find the row and to show in lists.
PREFIX_LENGTH = 8
#: ``last_used_at`` is written at most this often per token (one cheap UPDATE otherwise skipped).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(key: str) -> str:
    """The stored form of a key: its SHA-256, hex."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_key() -> str:
    """43 URL-safe characters (256 random bits)."""
    return secrets.token_urlsafe(32)


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now: datetime | None = None) -> ApiTokenQuerySet:
        """Not revoked and not expired."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))

    def create_token(
        self,
        user: Any,
        *,
        name: str,
        expires_at: datetime | None = None,
        key: str | None = None,
    ) -> tuple[ApiToken, str]:
        """A new token for ``user``; returns it and its key, which is never available again.

        ``key`` is for migrating existing keys and the demo only; a new token gets a random one.
        """
        key = key or new_key()
        token = self.create(
            user=user, name=name, prefix=key[:PREFIX_LENGTH], digest=digest(key), expires_at=expires_at
        )
        return token, key

    def revoke(self) -> int:
        """Revoke every token here not revoked yet; returns how many."""
        return self.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())

    def find(self, key: str) -> ApiToken | None:
        """The usable token with this key, or ``None`` (constant-time comparison of the digests)."""
        rows = self.matching(key)
        return rows[0] if rows else None

    def matching(self, key: str) -> list[ApiToken]:
        """The rows of the usable token with this key (several when this queryset joins a
        many-valued relation, one per related row), with its user; constant-time comparison."""
        return keep_matching(self.prefixed(key[:PREFIX_LENGTH], timezone.now()), key)

    def prefixed(self, prefix: str, now: datetime) -> ApiTokenQuerySet:
        """The usable tokens (at ``now``) whose key starts with ``prefix``, with their users."""
        # No ordering: the model's (by username, name) joined and sorted for every request's token.
        return self.usable(now).filter(prefix=prefix).select_related("user").order_by()


def keep_matching(rows: Iterable[ApiToken], key: str) -> list[ApiToken]:
    """The rows (of :meth:`ApiTokenQuerySet.prefixed`) whose digest is this key's, compared in
    constant time."""
    wanted = digest(key)
    return [token for token in rows if hmac.compare_digest(token.digest, wanted)]


class ApiToken(models.Model):
    """One API key of a user, kept as a SHA-256 digest."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. the tool that uses it.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, db_index=True, editable=False)
    digest = models.CharField("SHA-256 of the key", max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["user__username", "name", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=self.revoked_at)

    def touch(self) -> None:
        """Record a use, at most once per ``LAST_USED_RESOLUTION``: no query while the time read
        with the token is recent enough, else one conditional update (concurrent uses write once)."""
        now = timezone.now()
        if self.last_used_at is not None and self.last_used_at >= now - LAST_USED_RESOLUTION:
            return
        self.last_used_at = now
        ApiToken.objects.filter(pk=self.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)


def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone this system knows, UTC first."""
    import zoneinfo

    zones = sorted(zoneinfo.available_timezones() - {"UTC"})
    return [("UTC", "UTC"), *((zone, zone.replace("_", " ")) for zone in zones)]


class Preferences(models.Model):
    """A user's own settings: for now, the time zone the pages and the admin show times in."""

    DEFAULT_TIME_ZONE = "UTC"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    time_zone = models.CharField(
        max_length=64, default=DEFAULT_TIME_ZONE, help_text="The zone times are shown in (IANA name)."
    )

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"{self.user}: {self.time_zone}"
