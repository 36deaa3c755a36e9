"""公民身份号码 (citizen identity numbers) after GB 11643-1999.

18 characters: a 6-digit address code, the birth date as YYYYMMDD, a 3-digit sequence code
whose last digit is odd for men and even for women, and a check character computed with
ISO 7064 MOD 11-2, which catches every single-character change and every adjacent swap.
"""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
EARLIEST_BIRTH = datetime.date(1900, 1, 1)
ONE_DAY = datetime.timedelta(days=1)

# ASCII digits only: Python's \d, str.isdigit and int() also take the digits of every other
# script (Arabic-Indic ١, Devanagari १, ...), which would give one person a second number.
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_OLD_SHAPE = re.compile(r"^[0-9]{15}$")
ALLOWED = frozenset("0123456789X")
# The only other characters a number may be typed with: full-width digits and X, which
# Chinese input methods produce, and a lower-case x.
_TYPED = str.maketrans(
    {**{chr(0xFF10 + digit): str(digit) for digit in range(10)}, "Ｘ": "X", "ｘ": "X", "x": "X"}
)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: datetime.date
    sex: str  # "M" or "F", the codes Member.Sex uses


def normalize(raw) -> str:
    """White space removed, full-width digits and X to ASCII, a lower-case x made upper.

    Every other character stays as it is, for `parse` to refuse by its position.
    """
    return _SPACE.sub("", str(raw or "")).translate(_TYPED)


def check_character(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def upgrade_15(number15: str) -> str:
    """The 18-character number a first-generation 15-digit number became (GB 11643-1999 §5)."""
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_character(first17)


def _birth_date(digits: str) -> datetime.date | None:
    try:
        return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def parse(raw) -> IdNumber:
    """Validate and decode a number; raise ValidationError with the reason otherwise."""
    number = normalize(raw)
    if not number:
        raise ValidationError(_("Enter the citizen identity number."), code="required")
    for position, character in enumerate(number, start=1):
        if character not in ALLOWED:
            raise ValidationError(
                _(
                    "Character %(position)s of the number, “%(character)s” (%(code)s), is not "
                    "a digit 0-9 or X: type the number again with ordinary digits."
                ),
                code="character",
                params={
                    "position": position,
                    "character": character,
                    "code": f"U+{ord(character):04X}",
                },
            )
    if _OLD_SHAPE.match(number):
        raise ValidationError(
            _(
                "15-digit first-generation numbers are no longer valid; enter the 18-character "
                "number on the person's current card (converted, it would be %(upgraded)s)."
            ),
            code="old_format",
            params={"upgraded": upgrade_15(number)},
        )
    if not _SHAPE.match(number):
        raise ValidationError(
            _(
                "A citizen identity number has 18 characters: 17 digits and a final digit "
                "or X (%(length)s characters entered)."
            ),
            code="shape",
            params={"length": len(number)},
        )
    birth = _birth_date(number[6:14])
    if birth is None:
        raise ValidationError(
            _("Characters 7 to 14 (%(digits)s) are not a real date of birth."),
            code="birth_date",
            params={"digits": number[6:14]},
        )
    # The local date is within a day of the machine's: only a recent date needs the clock.
    if birth >= datetime.date.today() - ONE_DAY and birth > timezone.localdate():
        raise ValidationError(
            _("The date of birth in the number (%(date)s) lies in the future."),
            code="future",
            params={"date": birth.isoformat()},
        )
    if birth < EARLIEST_BIRTH:
        raise ValidationError(
            _("The date of birth in the number (%(date)s) is implausibly early."),
            code="too_early",
            params={"date": birth.isoformat()},
        )
    if check_character(number[:17]) != number[17]:
        raise ValidationError(
            _(
                "The check character does not match: the number was mistyped "
                "(check every digit against the card)."
            ),
            code="check",
        )
    sex = "M" if int(number[16]) % 2 else "F"
    return IdNumber(number=number, birth_date=birth, sex=sex)
