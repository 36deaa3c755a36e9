"""Field rules for members, shared by the model, the forms and the roster import."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{9,11}|\d{7,8})$")

# GB 32100-2015: the code's alphabet (no I, O, S, V, Z) and the weights of its check character.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalize_phone(raw) -> str:
    """Digits only (full-width made ASCII, spaces and dashes dropped), or "" for none."""
    text = unicodedata.normalize("NFKC", str(raw or ""))
    phone = re.sub(r"[\s()\-]", "", text)
    if phone.startswith("+86"):
        phone = phone[3:]
    if not phone:
        return ""
    if not _PHONE.match(phone):
        raise ValidationError(
            _(
                "“%(phone)s” is not a phone number: enter an 11-digit mobile number or a "
                "landline such as 0351-1234567."
            ),
            code="phone",
            params={"phone": phone},
        )
    return phone


def validate_credit_code(value: str) -> None:
    code = (value or "").strip().upper()
    if not code:
        return
    if len(code) != 18 or any(char not in CREDIT_CODE_ALPHABET for char in code):
        raise ValidationError(
            _("A unified social credit code has 18 digits and capital letters."),
            code="credit_code_shape",
        )
    total = sum(
        CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(code[:17], CREDIT_CODE_WEIGHTS, strict=True)
    )
    expected = CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]
    if code[17] != expected:
        raise ValidationError(
            _("The check character of the unified social credit code does not match."),
            code="credit_code_check",
        )
