"""Passwords kept by PBKDF2 with HMAC-SM3 (issue 19): what the settings choose, and a password
kept before by another hasher kept by this one from its next login."""

import base64
import hashlib

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.urls import reverse

from conftest import PASSWORD
from tongzhan.passwords import PBKDF2SM3PasswordHasher
from tongzhan.settings import base


def test_a_password_is_kept_with_hmac_sm3_and_checked_against_it():
    hasher = PBKDF2SM3PasswordHasher()
    encoded = hasher.encode("统战-Pass-2026", "saltsaltsalt", iterations=1000)
    algorithm, iterations, salt, digest = encoded.split("$")
    assert (algorithm, iterations, salt) == ("pbkdf2_sm3", "1000", "saltsaltsalt")
    # The same as PBKDF2-HMAC-SM3 computed by another implementation (Python's OpenSSL).
    expected = hashlib.pbkdf2_hmac("sm3", "统战-Pass-2026".encode(), b"saltsaltsalt", 1000, 32)
    assert base64.b64decode(digest) == expected
    assert hasher.verify("统战-Pass-2026", encoded)
    assert not hasher.verify("统战-Pass-2027", encoded)
    # As many iterations as Django's own PBKDF2.
    assert PBKDF2SM3PasswordHasher.iterations >= 1_000_000


@pytest.mark.django_db
def test_a_password_kept_before_is_kept_with_sm3_from_its_next_login(
    client, community_user, settings
):
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    assert base.PASSWORD_HASHERS[0] == "tongzhan.passwords.PBKDF2SM3PasswordHasher"
    community_user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    community_user.save(update_fields=["password"])
    client.post(reverse("login"), {"username": community_user.username, "password": PASSWORD})
    community_user.refresh_from_db()
    assert identify_hasher(community_user.password).algorithm == "pbkdf2_sm3"
    assert check_password(PASSWORD, community_user.password)
    # A new password is kept with it at once.
    assert make_password("另一个-Pass-9").startswith("pbkdf2_sm3$")
