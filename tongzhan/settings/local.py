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

import base64
import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.management.utils import get_random_secret_key

from .base import *  # noqa: F403
from .base import BASE_DIR, env_bool, env_list

LOCAL_KEYS_FILE = Path(os.environ.get("LOCAL_KEYS_FILE", BASE_DIR / ".run" / "local-keys.json"))


def new_local_keys() -> dict[str, str]:
    return {
        "SECRET_KEY": get_random_secret_key(),
        "FIELD_SM4_KEYS": f"local1:{base64.b64encode(secrets.token_bytes(16)).decode()}",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "FIELD_HASH_KEY": secrets.token_urlsafe(32),
        "AUDIT_CHAIN_KEY": secrets.token_urlsafe(32),
    }


def local_keys(path: Path) -> dict[str, str]:
    """The keys kept in `path`, written there with new random keys if it does not exist; a
    file from before a key was added gets that key (its others are kept, so what they
    encrypted stays readable)."""
    if not path.exists():
        keys = new_local_keys()
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
    keys = json.loads(path.read_text())
    missing = {name: value for name, value in new_local_keys().items() if name not in keys}
    if missing:
        keys.update(missing)
        staged = path.with_suffix(f".{os.getpid()}.tmp")
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(keys, file, indent=2)
        try:
            # Only if nobody else completed the file meanwhile: the first writer's keys win.
            if "FIELD_SM4_KEYS" in json.loads(path.read_text()):
                staged.unlink()
                return json.loads(path.read_text())
            staged.replace(path)
        except FileNotFoundError:
            pass
    return keys


DEBUG = env_bool("DJANGO_DEBUG", False)

_keys = local_keys(LOCAL_KEYS_FILE)
SECRET_KEY = os.environ.get("SECRET_KEY") or _keys["SECRET_KEY"]
FIELD_SM4_KEYS = env_list("FIELD_SM4_KEYS") or [_keys["FIELD_SM4_KEYS"]]
# The Fernet key stays for a database written before SM4 (it reads its values, and lookups
# try their hashes, until `rotate_keys` has rewritten them).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS") or [_keys["FIELD_ENCRYPTION_KEYS"]]
FIELD_HASH_KEY = os.environ.get("FIELD_HASH_KEY") or _keys["FIELD_HASH_KEY"]
AUDIT_CHAIN_KEY = os.environ.get("AUDIT_CHAIN_KEY") or _keys["AUDIT_CHAIN_KEY"]
