"""Production settings refuse to start without their secrets, database and host names, and
pass `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {
    "SECRET_KEY": "x" * 20 + "a-long-and-random-enough-production-secret-key-value",
    "FIELD_ENCRYPTION_KEYS": "6Q6nM0tq2n0p1qFYTNv2Jm5T2QTKUSo3y6oN5m2l1Hk=",
    "FIELD_HASH_KEY": "hash-key-for-the-test",
    "ALLOWED_HOSTS": "tongzhan.example",
    "DATABASE_URL": "postgres://tongzhan:secret@db.example:5432/tongzhan",
}


def manage(*args, env):
    base = {
        k: v for k, v in os.environ.items() if k not in SECRETS and k != "DJANGO_SETTINGS_MODULE"
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args, "--settings=tongzhan.settings.production"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", list(SECRETS))
def test_production_refuses_to_start_without_a_secret_its_database_or_its_hosts(missing):
    env = {k: v for k, v in SECRETS.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"The environment variable {missing} must be set in production." in result.stderr


def test_production_refuses_an_embedded_sqlite_database():
    result = manage("check", env={**SECRETS, "DATABASE_URL": "sqlite:///tmp/tongzhan.sqlite3"})
    assert result.returncode != 0
    assert "production needs PostgreSQL" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=SECRETS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
