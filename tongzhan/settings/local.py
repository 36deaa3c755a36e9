"""Settings for `make run` on a developer's machine: debug on, an insecure fixed key."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = SECRET_KEY or "insecure-local-development-key-never-use-in-production"  # noqa: F405

# Serve static files from the app folders directly; no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
