"""A user disabled in the portal (``is_active`` unticked) loses their API tokens for good.

Their sessions end with it: every authentication backend refuses an inactive user's session.
Tokens are revoked rather than only refused, so enabling the account again brings none back.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from accounts.models import ApiToken

__all__ = ["note_active_before_save", "revoke_tokens_of_disabled_user"]

logger = logging.getLogger(__name__)


def note_active_before_save(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """Remember whether the stored user was active (``pre_save``); sign-ins' saves skip it."""
    if instance.pk is None or (update_fields is not None and "is_active" not in update_fields):
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    instance._was_active = bool(stored)


def revoke_tokens_of_disabled_user(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """Revoke every usable token of a user just disabled (``post_save``)."""
    if created or instance.is_active or not getattr(instance, "_was_active", False):
        return
    instance._was_active = False
    count = ApiToken.objects.filter(user=instance, revoked_at__isnull=True).update(revoked_at=timezone.now())
    logger.info("user %s disabled: %d API token(s) revoked", instance.pk, count)
