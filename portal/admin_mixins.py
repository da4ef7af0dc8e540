"""Mixins shared by every app's admin."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

__all__ = ["ReadOnlyMixin"]


class ReadOnlyMixin:
    """Records (history, deliveries, sign-in changes): viewed, never added, changed or deleted.

    Put it first among the bases, so it wins over any wall that would open them.
    """

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
