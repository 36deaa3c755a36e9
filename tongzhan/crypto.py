"""Encryption at rest and keyed lookup hashes for personal numbers.

A database dump alone must not reveal full ID numbers or phones: the values are stored
Fernet-encrypted (AES-128-CBC with HMAC), and found again through an HMAC-SHA256 of the
normalised value, which also carries the uniqueness constraint.
"""

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.db import models


def _derived_key(purpose: bytes) -> bytes:
    return hashlib.sha256(purpose + settings.SECRET_KEY.encode()).digest()


@functools.cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        keys = (base64.urlsafe_b64encode(_derived_key(b"tongzhan-field-encryption")).decode(),)
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return fernet().decrypt(token.encode()).decode()


def lookup_hash(value: str) -> str:
    """Keyed hash of a normalised value: equal inputs give equal hashes, nothing reverses it."""
    hasher = _hasher(settings.FIELD_HASH_KEY, settings.SECRET_KEY).copy()
    hasher.update(value.encode())
    return hasher.hexdigest()


@functools.cache
def _hasher(hash_key: str, secret_key: str):
    """The keyed HMAC before any input, copied for each value (the key is set up once)."""
    key = hash_key.encode() or _derived_key(b"tongzhan-field-hash")
    return hmac.new(key, digestmod=hashlib.sha256)


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
