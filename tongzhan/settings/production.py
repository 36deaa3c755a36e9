"""Production settings: every secret comes from the environment and has no default.

A missing SECRET_KEY, encryption key (FIELD_SM4_KEYS, or FIELD_ENCRYPTION_KEYS for "aes"),
FIELD_HASH_KEY, AUDIT_CHAIN_KEY, DATABASE_URL or ALLOWED_HOSTS
stops the process at start rather than running with a guessable key, on an embedded SQLite
file beside the code, or answering to any host name.
"""

import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import FIELD_ENCRYPTION_ALGORITHM, env_bool, env_list, key_setting


def required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} must be set in production.")
    return value


def required_key(name: str) -> str:
    """A key from the environment or KEYS_FILE (base.py)."""
    value = key_setting(name)
    if not value:
        raise ImproperlyConfigured(
            f"The key {name} must be set in production, in the environment or in KEYS_FILE."
        )
    return value


DEBUG = False
SECRET_KEY = required("SECRET_KEY")
# The algorithm's own keys: SM4 keys for "sm4", Fernet keys for "aes" (base.py).
required_key("FIELD_SM4_KEYS" if FIELD_ENCRYPTION_ALGORITHM == "sm4" else "FIELD_ENCRYPTION_KEYS")
FIELD_HASH_KEY = required_key("FIELD_HASH_KEY")
AUDIT_CHAIN_KEY = required_key("AUDIT_CHAIN_KEY")

# The registry lives in PostgreSQL (README, "Production deployment"); base.py's fallback to a
# SQLite file is for a laptop.
DATABASES = {
    "default": dj_database_url.parse(
        required("DATABASE_URL"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    raise ImproperlyConfigured(
        "DATABASE_URL names a SQLite database; production needs PostgreSQL "
        "(postgres://USER:PASSWORD@HOST:5432/NAME)."
    )
required("ALLOWED_HOSTS")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Production runs behind the documented nginx, which sets X-Real-IP.
BEHIND_PROXY = env_bool("BEHIND_PROXY", True)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Gunicorn runs several processes, on several machines: background tasks are run by
# `manage.py db_worker` processes (deploy/tongzhan-worker@.service), never by the web's.
TASKS_IN_PROCESS = False
