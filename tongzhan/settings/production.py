"""Production settings: every secret comes from the environment and has no default.

A missing SECRET_KEY, FIELD_ENCRYPTION_KEYS or FIELD_HASH_KEY stops the process at start
rather than running with a guessable key.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool


def required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} must be set in production.")
    return value


DEBUG = False
SECRET_KEY = required("SECRET_KEY")
required("FIELD_ENCRYPTION_KEYS")
FIELD_HASH_KEY = required("FIELD_HASH_KEY")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Production runs behind the documented nginx, which sets X-Real-IP.
BEHIND_PROXY = env_bool("BEHIND_PROXY", True)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Gunicorn runs several processes, on several machines: rosters are checked and imported by
# `manage.py import_worker` processes, not by threads of the web workers.
IMPORT_JOBS_RUN = os.environ.get("IMPORT_JOBS_RUN", "worker")
