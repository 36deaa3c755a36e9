"""Settings for the embedded server on one's own machine: `make run` and `make dev`.

`make run` serves as production does, so a newcomer sees what users see: DEBUG off (the
Chinese 404/403/500 pages, never Django's debug page with its list of URL patterns), and
static files collected into STATIC_ROOT and served by WhiteNoise with their cache headers.
`make dev` sets DJANGO_DEBUG=1; WhiteNoise's USE_FINDERS and AUTOREFRESH follow DEBUG, so
there it serves the files where they lie and picks up changes without collectstatic.

The keys come from the environment, else from a file made with random keys on the first
start and kept (git ignores it), so the ID numbers and phones encrypted in the embedded
database stay readable across restarts, and no key is written in the code.
"""

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.management.utils import get_random_secret_key

from .base import *  # noqa: F403
from .base import BASE_DIR, env_bool, env_list

LOCAL_KEYS_FILE = Path(os.environ.get("LOCAL_KEYS_FILE", BASE_DIR / ".run" / "local-keys.json"))


def local_keys(path: Path) -> dict[str, str]:
    """The keys kept in `path`, written there with new random keys if it does not exist."""
    if not path.exists():
        keys = {
            "SECRET_KEY": get_random_secret_key(),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "FIELD_HASH_KEY": secrets.token_urlsafe(32),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Readable by the owner only; exclusive, so two processes starting at once (the
            # server and its reloader) cannot each write different keys.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as file:
                json.dump(keys, file, indent=2)
            return keys
    return json.loads(path.read_text())


DEBUG = env_bool("DJANGO_DEBUG", False)

_keys = local_keys(LOCAL_KEYS_FILE)
SECRET_KEY = os.environ.get("SECRET_KEY") or _keys["SECRET_KEY"]
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS") or [_keys["FIELD_ENCRYPTION_KEYS"]]
FIELD_HASH_KEY = os.environ.get("FIELD_HASH_KEY") or _keys["FIELD_HASH_KEY"]
