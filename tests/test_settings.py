"""Settings come from the environment; a missing required one stops the start, naming it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DJANGO_SECRET_KEY": "x" * 60,
    "PORTAL_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE=",
    "PORTAL_BASE_URL": "https://portal.example.com",
}


def _start(env: dict[str, str]) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter, as ``manage.py`` does at start."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.VPC_API_ENDPOINT, settings.DATABASES['default']['ENGINE'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "PORTAL_ENCRYPTION_KEYS", "PORTAL_BASE_URL"])
def test_missing_required_setting_is_named(name):
    env = {k: v for k, v in BASE_ENV.items() if k != name}
    result = _start(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_debug_mode_runs_without_secrets():
    env = {k: v for k, v in BASE_ENV.items() if not k.startswith(("DJANGO_SECRET", "PORTAL_"))}
    result = _start({**env, "DJANGO_DEBUG": "true"})
    assert result.returncode == 0, result.stderr


def test_the_base_url_for_e_mail_links_says_why_it_is_needed():
    result = _start({k: v for k, v in BASE_ENV.items() if k != "PORTAL_BASE_URL"})
    assert result.returncode != 0
    assert "PORTAL_BASE_URL must be set" in result.stderr
    assert "never from a request's Host header" in result.stderr
    refused = _start({**BASE_ENV, "PORTAL_BASE_URL": "portal.example.com"})
    assert refused.returncode != 0
    assert "PORTAL_BASE_URL must be an http:// or https:// URL" in refused.stderr


def test_short_secret_key_is_refused():
    result = _start({**BASE_ENV, "DJANGO_SECRET_KEY": "too-short"})
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_endpoint_and_database_come_from_the_environment():
    result = _start(
        {
            **BASE_ENV,
            "VPC_API_ENDPOINT": "https://vpc.cn-north-4.myhuaweicloud.com",
            "DATABASE_URL": "postgres://portal@db.invalid:5432/portal",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "https://vpc.cn-north-4.myhuaweicloud.com",
        "django.db.backends.postgresql",
    ]


def _settings(env: dict[str, str], expression: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import settings; print(repr(({expression})))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_defaults_keep_no_state_in_the_process():
    expression = (
        "settings.VPC_SIMULATOR_ENABLED, 'vpcsim' in settings.INSTALLED_APPS, "
        "settings.CACHES['default']['BACKEND'], settings.SESSION_ENGINE, "
        "settings.CELERY_TASK_ALWAYS_EAGER, settings.LOG_FORMAT"
    )
    assert _settings(BASE_ENV, expression) == (
        "(False, False, 'portal.cache.DatabaseCache', 'django.contrib.sessions.backends.db', True, 'json')"
    )


def test_redis_cache_broker_and_simulator_come_from_the_environment():
    env = {
        **BASE_ENV,
        "REDIS_URL": "redis://127.0.0.1:6379/3",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/4",
        "VPC_SIMULATOR_ENABLED": "true",
        "SYNC_PEERINGS_INTERVAL": "60",
    }
    expression = (
        "settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION'], "
        "settings.CELERY_TASK_ALWAYS_EAGER, 'vpcsim' in settings.INSTALLED_APPS, "
        "settings.CELERY_BEAT_SCHEDULE['sync-peerings']['schedule']"
    )
    assert _settings(env, expression) == (
        "('django.core.cache.backends.redis.RedisCache', 'redis://127.0.0.1:6379/3', False, True, 60.0)"
    )


def test_debug_logs_text_and_a_bad_log_format_is_refused():
    assert _settings({**BASE_ENV, "DJANGO_DEBUG": "true"}, "settings.LOG_FORMAT") == "'text'"
    result = _start({**BASE_ENV, "LOG_FORMAT": "xml"})
    assert result.returncode != 0
    assert "LOG_FORMAT" in result.stderr


def test_a_relative_mail_directory_is_refused_and_an_absolute_one_taken(tmp_path):
    # filemail:///path is django-environ's *relative* path: mails would land inside the checkout.
    result = _start({**BASE_ENV, "EMAIL_URL": "filemail:///var/mail/portal"})
    assert result.returncode != 0
    assert "filemail:////var/mail/portal" in result.stderr
    env = {**BASE_ENV, "EMAIL_URL": f"filemail:///{tmp_path}"}
    assert _settings(env, "settings.EMAIL_FILE_PATH") == repr(str(tmp_path))


def test_without_a_broker_celery_names_a_host_so_kombu_does_not_warn(caplog):
    import logging

    from django.conf import settings
    from kombu import Connection

    with caplog.at_level(logging.WARNING, logger="kombu.connection"):
        Connection(settings.CELERY_BROKER_URL)._info()
    assert settings.CELERY_BROKER_URL.startswith("memory://")
    assert caplog.records == []
