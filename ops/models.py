"""A lease per background job, so that two runs of one job never overlap, whatever host runs them."""

from __future__ import annotations

from django.db import models

__all__ = ["JobLock", "JobStatus"]


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


class JobStatus(models.Model):
    """How a background job's runs went: counts and the last success and failure (for metrics)."""

    name = models.CharField(max_length=100, unique=True)
    successes = models.PositiveBigIntegerField(default=0)
    failures = models.PositiveBigIntegerField(default=0)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "job statuses"

    def __str__(self) -> str:
        return f"{self.name}: {self.successes} ok, {self.failures} failed"
