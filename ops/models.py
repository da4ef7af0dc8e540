"""A lease per background job, so that two runs of one job never overlap, whatever host runs them."""

from __future__ import annotations

from django.db import models

__all__ = ["JobLock"]


class JobLock(models.Model):
    """Who holds the lease on a job, and until when. Taken and given back by :mod:`ops.locks`."""

    name = models.CharField(max_length=100, unique=True)
    owner = models.CharField(max_length=64, help_text="A random token of the run holding the lease.")
    holder = models.CharField(max_length=255, blank=True, help_text="Host and process, for people.")
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="The lease is free again after this time.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (held by {self.holder or self.owner} until {self.expires_at:%Y-%m-%d %H:%M:%S})"
