"""Encryption at rest and keyed lookup hashes (the blind index) for personal numbers.

A database dump alone must not reveal full ID numbers or phones: the values are stored
encrypted, and found again through a keyed hash of the normalised value, which also carries
the uniqueness constraint.

Two algorithms, chosen in settings (FIELD_ENCRYPTION_ALGORITHM), never mixed silently,
because every stored value says which one wrote it:

- ``sm4`` (the default; GB/T 39786-2021, for systems evaluated for their use of commercial
  cryptography): SM4-GCM, stored as ``sm4:<key id>:<base64 of nonce, ciphertext and tag>``,
  the key id and the prefix authenticated with the value; the blind index is HMAC-SM3.
- ``aes``, for deployments that are not evaluated: Fernet (AES-128-CBC with HMAC-SHA256),
  whose tokens begin ``gAAAA``; the blind index is HMAC-SHA256.

Keys come from the environment or a key file (tongzhan.settings), never the database.
FIELD_SM4_KEYS is a list of ``<id>:<base64 key>``, newest first: the newest encrypts, all
decrypt. While the other algorithm's keys are still configured, values it wrote are read
and lookups also try its hash, so a database is upgraded while it serves; `manage.py
rotate_keys` rewrites every value and hash in the chosen form (tongzhan.rotation).
"""

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as keyed
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

SM4, AES = "sm4", "aes"
ALGORITHMS = (SM4, AES)
SM4_PREFIX = "sm4:"
FERNET_PREFIX = "gAAAA"  # a Fernet token's version byte, 0x80, in base64
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
NONCE_BYTES, TAG_BYTES = 12, 16


class DecryptionError(ValueError):
    """A stored value that the configured keys do not open: its key is not configured, the
    key is wrong, or the value was altered."""


def _derived_key(purpose: bytes) -> bytes:
    return hashlib.sha256(purpose + settings.SECRET_KEY.encode()).digest()


def parse_sm4_keys(entries) -> tuple[tuple[str, bytes], ...]:
    """``<id>:<base64 of 16 bytes>`` entries, newest first, checked."""
    keys = []
    for place, entry in enumerate(entries, 1):
        key_id, sep, encoded = entry.strip().partition(":")
        if not sep or not KEY_ID.match(key_id):
            # Named by its place, not its text: an entry without its id may be the key itself,
            # and this message goes to the service's log.
            raise ImproperlyConfigured(
                f"FIELD_SM4_KEYS: entry {place} is not <id>:<base64 key>; a key id is 1 to 16 "
                "letters, digits, - or _."
            )
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            key = b""
        if len(key) != 16:
            raise ImproperlyConfigured(
                f"FIELD_SM4_KEYS: key {key_id!r} must be 16 bytes in base64."
            )
        if key_id in dict(keys):
            raise ImproperlyConfigured(f"FIELD_SM4_KEYS: key id {key_id!r} is given twice.")
        keys.append((key_id, key))
    return tuple(keys)


def new_sm4_key(key_id: str) -> str:
    """A setting entry with a new random key (``manage.py rotate_keys --new-key``)."""
    return f"{key_id}:{base64.b64encode(os.urandom(16)).decode()}"


@dataclass(frozen=True)
class Keyring:
    algorithm: str
    sm4_keys: tuple[tuple[str, bytes], ...]  # newest first
    fernet: MultiFernet
    fernet_newest: Fernet
    fernet_configured: bool
    hash_keys: tuple[bytes, ...]  # current first
    hash_algorithms: tuple[str, ...]  # the algorithm's own first, then one still present

    @property
    def current_key_id(self) -> str | None:
        return self.sm4_keys[0][0] if self.algorithm == SM4 else None

    def is_current(self, token: str) -> bool:
        """Whether `token` is in the form and under the key that writes now (a Fernet token
        does not name its key: it is current if the newest key opens it)."""
        if self.algorithm == SM4:
            return token.startswith(f"{SM4_PREFIX}{self.current_key_id}:")
        if not token.startswith(FERNET_PREFIX):
            return False
        try:
            self.fernet_newest.decrypt(token.encode())
        except InvalidToken:
            return False
        return True


@functools.cache
def _keyring(
    algorithm, sm4_entries, fernet_keys, hash_key, previous_hash_keys, secret_key
) -> Keyring:
    if algorithm not in ALGORITHMS:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_ALGORITHM is {algorithm!r}; it must be one of {ALGORITHMS}."
        )
    sm4_keys = parse_sm4_keys(sm4_entries)
    if not sm4_keys and algorithm == SM4:
        sm4_keys = (("dev", _derived_key(b"tongzhan-sm4")[:16]),)
    fernet_list = list(fernet_keys) or [
        base64.urlsafe_b64encode(_derived_key(b"tongzhan-field-encryption")).decode()
    ]
    own, other = ("sm3", "sha256") if algorithm == SM4 else ("sha256", "sm3")
    # The other algorithm's hashes are looked for while its keys are configured: values it
    # wrote may remain until `rotate_keys` has run.
    other_present = bool(fernet_keys) if algorithm == SM4 else bool(sm4_entries)
    current_hash_key = hash_key.encode() or _derived_key(b"tongzhan-field-hash")
    return Keyring(
        algorithm=algorithm,
        sm4_keys=sm4_keys,
        fernet=MultiFernet([Fernet(key) for key in fernet_list]),
        fernet_newest=Fernet(fernet_list[0]),
        fernet_configured=bool(fernet_keys),
        hash_keys=(current_hash_key, *(key.encode() for key in previous_hash_keys if key)),
        hash_algorithms=(own, other) if other_present else (own,),
    )


def keyring() -> Keyring:
    return _keyring(
        settings.FIELD_ENCRYPTION_ALGORITHM,
        tuple(settings.FIELD_SM4_KEYS),
        tuple(settings.FIELD_ENCRYPTION_KEYS),
        settings.FIELD_HASH_KEY,
        tuple(settings.FIELD_HASH_PREVIOUS_KEYS),
        settings.SECRET_KEY,
    )


# -- Values ----------------------------------------------------------------------------------


def _sm4_aad(key_id: str) -> bytes:
    return f"{SM4_PREFIX}{key_id}".encode()


def sm4_encrypt(value: str, key_id: str, key: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(_sm4_aad(key_id))
    sealed = encryptor.update(value.encode()) + encryptor.finalize()
    body = base64.b64encode(nonce + sealed + encryptor.tag).decode()
    return f"{SM4_PREFIX}{key_id}:{body}"


def _sm4_decrypt(token: str, ring: Keyring) -> str:
    key_id, _sep, body = token[len(SM4_PREFIX) :].partition(":")
    key = dict(ring.sm4_keys).get(key_id)
    if key is None:
        raise DecryptionError(f"SM4 key {key_id!r} is not configured (FIELD_SM4_KEYS).")
    try:
        raw = base64.b64decode(body, validate=True)
    except binascii.Error as error:
        raise DecryptionError(f"An SM4 value under key {key_id!r} is not base64.") from error
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError(f"An SM4 value under key {key_id!r} is too short.")
    nonce, sealed, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(_sm4_aad(key_id))
    try:
        return (decryptor.update(sealed) + decryptor.finalize()).decode()
    except InvalidTag as error:
        raise DecryptionError(
            f"An SM4 value does not open with key {key_id!r}: the key is wrong or the value "
            "was altered."
        ) from error


def encrypt(value: str) -> str:
    ring = keyring()
    if ring.algorithm == SM4:
        key_id, key = ring.sm4_keys[0]
        return sm4_encrypt(value, key_id, key)
    return ring.fernet.encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    ring = keyring()
    if token.startswith(SM4_PREFIX):
        return _sm4_decrypt(token, ring)
    if token.startswith(FERNET_PREFIX):
        try:
            return ring.fernet.decrypt(token.encode()).decode()
        except InvalidToken as error:
            raise DecryptionError(
                "A Fernet (AES) value does not open with the configured FIELD_ENCRYPTION_KEYS: "
                "the key is wrong or the value was altered."
            ) from error
    raise DecryptionError("A stored value is in no known form (neither sm4: nor Fernet).")


def value_form(token: str) -> str:
    """Which form a stored value is in: ``sm4:<key id>``, ``aes`` or ``unknown``."""
    if token.startswith(SM4_PREFIX):
        return SM4_PREFIX + token[len(SM4_PREFIX) :].partition(":")[0]
    return AES if token.startswith(FERNET_PREFIX) else "unknown"


# -- The blind index -------------------------------------------------------------------------


@functools.cache
def _hasher(algorithm: str, key: bytes):
    """The keyed HMAC before any input, copied for each value (the key is set up once)."""
    if algorithm == "sm3":
        return keyed.HMAC(key, hashes.SM3())
    return hmac.new(key, digestmod=hashlib.sha256)


def _hash(algorithm: str, key: bytes, value: str) -> str:
    hasher = _hasher(algorithm, key).copy()
    hasher.update(value.encode())
    if algorithm == "sm3":
        return hasher.finalize().hex()
    return hasher.hexdigest()


def lookup_hash(value: str) -> str:
    """Keyed hash of a normalised value, as it is written now: equal inputs give equal
    hashes, nothing reverses it."""
    ring = keyring()
    return _hash(ring.hash_algorithms[0], ring.hash_keys[0], value)


def lookup_hashes(value: str) -> list[str]:
    """Every hash `value` may be stored under: the current one first, then those of the
    previous hash keys and of the other algorithm while its keys are configured. One while
    nothing is being rotated."""
    ring = keyring()
    return list(
        dict.fromkeys(
            _hash(algorithm, key, value)
            for algorithm in ring.hash_algorithms
            for key in ring.hash_keys
        )
    )


def lookup_has_aliases() -> bool:
    """Whether a value may be stored under more than one hash (a rotation under way)."""
    ring = keyring()
    return len(ring.hash_algorithms) * len(ring.hash_keys) > 1


class EncryptedCharField(models.TextField):
    """A text value stored encrypted; reads give the plain text back.

    Lookups on it are meaningless (each encryption differs); search the hash column instead.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
