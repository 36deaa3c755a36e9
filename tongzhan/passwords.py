"""Password rules beyond Django's: several kinds of character, no username inside, not the
password the account has now; and how passwords are kept (PBKDF2 with HMAC-SM3).

The rules are configured in AUTH_PASSWORD_VALIDATORS (settings), so forms, the admin and
`changepassword` apply them alike; the hasher in PASSWORD_HASHERS.
"""

import base64
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CLASSES = (
    ("lower", re.compile(r"[a-z]")),
    ("upper", re.compile(r"[A-Z]")),
    ("digit", re.compile(r"[0-9]")),
    ("other", re.compile(r"[^a-zA-Z0-9]")),
)


class CharacterClassesValidator:
    """At least `min_classes` of: lower-case letters, capitals, digits, other characters."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        found = sum(1 for _name, pattern in CLASSES if pattern.search(password))
        if found < self.min_classes:
            raise ValidationError(
                _(
                    "Use at least %(count)s of these: lower-case letters, capital letters, "
                    "digits, other characters."
                )
                % {"count": self.min_classes},
                code="password_too_simple",
            )

    def get_help_text(self):
        return _(
            "At least %(count)s of: lower-case letters, capital letters, digits, other characters."
        ) % {"count": self.min_classes}


class NoUsernameValidator:
    """The password must not contain the username (in any case)."""

    def validate(self, password, user=None):
        username = getattr(user, "username", "") or ""
        if len(username) >= 3 and username.lower() in password.lower():
            raise ValidationError(
                _("The password must not contain the username."), code="password_has_username"
            )

    def get_help_text(self):
        return _("It must not contain your username.")


class NotCurrentPasswordValidator:
    """A change must change the password: typing the current one again is refused (the
    forced change at first login or expiry would otherwise be a formality)."""

    def validate(self, password, user=None):
        encoded = getattr(user, "password", "") or ""
        # The hash is compared without the model's setter, which would re-save the account.
        if encoded and check_password(password, encoded):
            raise ValidationError(
                _("The new password must differ from the current one."),
                code="password_unchanged",
            )

    def get_help_text(self):
        return _("It must differ from your current password.")


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, with a message the Chinese catalogue translates (Django 5.2's wording of it
    is not translated in its own zh_Hans catalogue)."""

    def get_error_message(self):
        return _("The password is too short: it needs at least %(count)s characters.") % {
            "count": self.min_length
        }

    def get_help_text(self):
        return _("At least %(count)s characters.") % {"count": self.min_length}


class PBKDF2SM3PasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 with HMAC-SM3 (GB/T 32905-2016), the national hash a 密评 expects of stored
    passwords (GB/T 39786-2021): Django's PBKDF2 with SM3 in place of SHA-256, as many
    iterations, computed by `cryptography`'s OpenSSL. First in PASSWORD_HASHERS, so a
    password kept by another hasher is kept by this one from its next login."""

    algorithm = "pbkdf2_sm3"

    def encode(self, password, salt, iterations=None):
        self._check_encode_args(password, salt)
        iterations = iterations or self.iterations
        derived = PBKDF2HMAC(
            algorithm=hashes.SM3(), length=32, salt=salt.encode(), iterations=iterations
        ).derive(password.encode())
        digest = base64.b64encode(derived).decode("ascii").strip()
        return f"{self.algorithm}${iterations}${salt}${digest}"
