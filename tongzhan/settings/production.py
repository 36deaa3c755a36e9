"""Production settings: every secret comes from the environment and has no default.

A missing SECRET_KEY, encryption key (FIELD_SM4_KEYS, or FIELD_ENCRYPTION_KEYS for "aes"),
FIELD_HASH_KEY, AUDIT_CHAIN_KEY, DATABASE_URL or ALLOWED_HOSTS
stops the process at start rather than running with a guessable key, on an embedded SQLite
file beside the code, or answering to any host name. So does a key left at the example's
placeholder (deploy/tongzhan.env.example), an HMAC key too short to be random enough, a
key setting that holds no key (","), or a KEYS_FILE that others than its owner may read.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    FIELD_ENCRYPTION_ALGORITHM,
    FIELD_ENCRYPTION_KEYS,
    FIELD_SM4_KEYS,
    env_bool,
    env_list,
    key_setting,
)

# The example environment's values (deploy/tongzhan.env.example): known to anyone.
PLACEHOLDER = "change-me"
# An HMAC key given as text: 32 characters of `openssl rand -base64 32` carry 192 bits.
HMAC_KEY_MIN_LENGTH = 32


def not_placeholder(name: str, value: str) -> str:
    # The message names the setting, never its value: it goes to the service's log.
    if PLACEHOLDER in value.lower():
        raise ImproperlyConfigured(
            f"{name} is still the example's placeholder ({PLACEHOLDER}…); set a random value."
        )
    return value


def required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} must be set in production.")
    return value


def required_key(name: str, *, min_length: int = 0) -> str:
    """A key from the environment or KEYS_FILE (base.py)."""
    value = key_setting(name)
    if not value:
        raise ImproperlyConfigured(
            f"The key {name} must be set in production, in the environment or in KEYS_FILE."
        )
    if len(not_placeholder(name, value)) < min_length:
        raise ImproperlyConfigured(
            f"The key {name} must be at least {min_length} characters (openssl rand -base64 32)."
        )
    return value


DEBUG = False
if os.environ.get("KEYS_FILE") and Path(os.environ["KEYS_FILE"]).stat().st_mode & 0o077:
    raise ImproperlyConfigured(
        "KEYS_FILE must be readable by the service's user only (chmod 600, owner tongzhan)."
    )
SECRET_KEY = not_placeholder("SECRET_KEY", required("SECRET_KEY"))
# The algorithm's own keys: SM4 keys for "sm4", Fernet keys for "aes" (base.py), as parsed:
# a setting of commas alone is no key, and the keys derived from SECRET_KEY would encrypt.
_own_keys = "FIELD_SM4_KEYS" if FIELD_ENCRYPTION_ALGORITHM == "sm4" else "FIELD_ENCRYPTION_KEYS"
required_key(_own_keys)
if not (FIELD_SM4_KEYS if _own_keys == "FIELD_SM4_KEYS" else FIELD_ENCRYPTION_KEYS):
    raise ImproperlyConfigured(f"The key {_own_keys} holds no key.")
FIELD_HASH_KEY = required_key("FIELD_HASH_KEY", min_length=HMAC_KEY_MIN_LENGTH)
AUDIT_CHAIN_KEY = required_key("AUDIT_CHAIN_KEY", min_length=HMAC_KEY_MIN_LENGTH)

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
