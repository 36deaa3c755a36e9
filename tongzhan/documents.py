"""Identity documents (证件) a member is registered with, and the format of each number.

Categories 09–12 (Hong Kong, Macao and Taiwan compatriots, overseas Chinese) include people
without a mainland ID card. Every document format lives here; `tongzhan.idnumber` keeps the
GB 11643 structure the 18-character kinds share. Like it, every format takes ASCII digits and
Latin letters only and names the first other character by its position: the digits of other
scripts would give one person a second number.
"""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import idnumber


class DocumentType(models.TextChoices):
    """Stable codes: forms, rosters and the lookup hash refer to a document by them."""

    ID_CARD = "id_card", gettext_lazy("Resident identity card")
    HK_MACAO_RESIDENCE = "hm_residence", gettext_lazy("Residence permit for HK and Macao residents")
    TAIWAN_RESIDENCE = "tw_residence", gettext_lazy("Residence permit for Taiwan residents")
    HK_MACAO_PERMIT = "hm_permit", gettext_lazy("Mainland travel permit for HK and Macao residents")
    TAIWAN_PERMIT = "tw_permit", gettext_lazy("Mainland travel permit for Taiwan residents")
    PASSPORT = "passport", gettext_lazy("Passport")
    FOREIGN_PERMANENT = "foreign_pr", gettext_lazy("Foreigner's permanent residence ID card")


# `DocumentType.values` builds its list afresh on every use: once per number checked, that was
# a tenth of checking a large roster's rows.
_DOCUMENT_TYPES = frozenset(DocumentType.values)


class Country(models.TextChoices):
    """Countries and regions that issue passports, by ISO 3166-1 alpha-3 code.

    A short list of those the registry's people come from (overseas Chinese communities and
    the usual countries of study and residence), not all of ISO 3166; XXX (ICAO Doc 9303's
    "unspecified") stands for any other.
    """

    CHN = "CHN", gettext_lazy("China")
    USA = "USA", gettext_lazy("United States")
    CAN = "CAN", gettext_lazy("Canada")
    GBR = "GBR", gettext_lazy("United Kingdom")
    AUS = "AUS", gettext_lazy("Australia")
    NZL = "NZL", gettext_lazy("New Zealand")
    JPN = "JPN", gettext_lazy("Japan")
    KOR = "KOR", gettext_lazy("South Korea")
    SGP = "SGP", gettext_lazy("Singapore")
    MYS = "MYS", gettext_lazy("Malaysia")
    IDN = "IDN", gettext_lazy("Indonesia")
    THA = "THA", gettext_lazy("Thailand")
    PHL = "PHL", gettext_lazy("Philippines")
    VNM = "VNM", gettext_lazy("Viet Nam")
    MMR = "MMR", gettext_lazy("Myanmar")
    KHM = "KHM", gettext_lazy("Cambodia")
    LAO = "LAO", gettext_lazy("Laos")
    IND = "IND", gettext_lazy("India")
    FRA = "FRA", gettext_lazy("France")
    DEU = "DEU", gettext_lazy("Germany")
    ITA = "ITA", gettext_lazy("Italy")
    ESP = "ESP", gettext_lazy("Spain")
    NLD = "NLD", gettext_lazy("Netherlands")
    RUS = "RUS", gettext_lazy("Russia")
    BRA = "BRA", gettext_lazy("Brazil")
    ARG = "ARG", gettext_lazy("Argentina")
    PER = "PER", gettext_lazy("Peru")
    ZAF = "ZAF", gettext_lazy("South Africa")
    XXX = "XXX", gettext_lazy("Other country or region")


@dataclass(frozen=True)
class Document:
    type: str
    number: str  # as stored: normalised, without a permit's renewal count
    birth_date: datetime.date | None  # None where the number does not carry it
    sex: str  # "M", "F", or "" where the number does not carry it


_SPACE = re.compile(r"\s+")
# Full-width digits and letters (Chinese input methods type them) and lower-case letters.
_TYPED = str.maketrans(
    {
        **{chr(0xFF10 + digit): str(digit) for digit in range(10)},
        **{chr(0xFF21 + index): chr(0x41 + index) for index in range(26)},
        **{chr(0xFF41 + index): chr(0x41 + index) for index in range(26)},
        **{chr(0x61 + index): chr(0x41 + index) for index in range(26)},
    }
)
DIGITS = frozenset("0123456789")
LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")

# 港澳台居民居住证申领发放办法 (国办发〔2018〕81号) and the 公安部 note on its numbers: the
# GB 11643 structure with the address code 810000 (Hong Kong), 820000 (Macao), 830000 (Taiwan).
RESIDENCE_PREFIXES = {
    DocumentType.HK_MACAO_RESIDENCE: ("810000", "820000"),
    DocumentType.TAIWAN_RESIDENCE: ("830000",),
}
# 公安部出入境管理局, 港澳居民来往内地通行证号码规则 (2010): H (Hong Kong) or M (Macao), an 8-digit
# lifelong number, and on the 1999 card 2 more digits counting the renewals.
_HM_PERMIT = re.compile(r"^[HM][0-9]{8}([0-9]{2})?$")
# 台湾居民来往大陆通行证: the card of 2015 carries the 8-digit lifelong number; the booklet
# before it added 2 digits counting the renewals.
_TW_PERMIT = re.compile(r"^[0-9]{8}([0-9]{2})?$")
# Passports follow no single format (ICAO Doc 9303 allows up to 9 characters in the machine-
# readable zone, some states print longer numbers): letters and digits, 5 to 20.
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
# 外国人永久居留身份证: 2004 card, 3-letter nationality code and 12 digits (公安部令第74号);
# the cards of 2017 and 2023 have 18 digits starting with 9 and the GB 11643 check character
# (公安部公告, 2017-06-22).
_PR_OLD = re.compile(r"^[A-Z]{3}[0-9]{12}$")


def normalize(raw) -> str:
    """White space removed, full-width digits and letters to ASCII, letters upper-case.

    Every other character stays as it is, for `parse` to refuse by its position.
    """
    return _SPACE.sub("", str(raw or "")).translate(_TYPED)


def carries_birth(document_type: str, number: str) -> bool:
    """Whether a (valid) number gives the date of birth and sex: the 18-character kinds with
    the GB 11643 structure; the 2004 permanent residence card, permits and passports do not."""
    return document_type != DocumentType.PASSPORT and len(number) == 18


def lookup_key(document_type: str, number: str) -> str:
    """What the blind index hashes: the number alone for the ID card, so the hashes stored
    before other documents existed stay valid; type and number for the others (the same
    number under two types is two documents)."""
    if document_type == DocumentType.ID_CARD:
        return number
    return f"{document_type}:{number}"


def _characters(number: str, allowed: frozenset, message: str) -> None:
    for position, character in enumerate(number, start=1):
        if character not in allowed:
            raise ValidationError(
                message,
                code="character",
                params={
                    "position": position,
                    "character": character,
                    "code": f"U+{ord(character):04X}",
                },
            )


def _not_digit_or_letter() -> str:
    return _(
        "Character %(position)s of the number, “%(character)s” (%(code)s), is not a digit "
        "0-9 or a Latin letter: type the number again with ordinary characters."
    )


def _required(document_type: str) -> ValidationError:
    return ValidationError(
        _("Enter the number of the %(document)s.")
        % {"document": DocumentType(document_type).label},
        code="required",
    )


def parse(document_type: str, raw) -> Document:
    """Validate and decode a number of the given document type; ValidationError otherwise."""
    if document_type not in _DOCUMENT_TYPES:
        raise ValidationError(_("Choose the document type."), code="type")
    number = normalize(raw)
    if document_type == DocumentType.ID_CARD:
        return _id_card(number)
    if not number:
        raise _required(document_type)
    if document_type in RESIDENCE_PREFIXES:
        return _residence(document_type, number)
    if document_type == DocumentType.HK_MACAO_PERMIT:
        return _hm_permit(number)
    if document_type == DocumentType.TAIWAN_PERMIT:
        return _tw_permit(number)
    if document_type == DocumentType.PASSPORT:
        return _passport(number)
    return _foreign_permanent(number)


def _from_idnumber(document_type: str, number: str) -> Document:
    parsed = idnumber.parse(number)
    return Document(document_type, parsed.number, parsed.birth_date, parsed.sex)


def _id_card(number: str) -> Document:
    document = _from_idnumber(DocumentType.ID_CARD, number)
    # No mainland address code starts with 81-83 or 9 (GB/T 2260): such a number belongs to
    # one of the other cards with the same structure.
    if number.startswith(("81", "82", "83")):
        raise ValidationError(
            _(
                "A number starting with %(prefix)s is a residence permit of a Hong Kong, Macao "
                "or Taiwan resident: choose that document type."
            ),
            code="other_type",
            params={"prefix": number[:6]},
        )
    if number.startswith("9"):
        raise ValidationError(
            _(
                "A number starting with 9 is a foreigner's permanent residence ID card: choose "
                "that document type."
            ),
            code="other_type",
        )
    return document


def _eighteen(document_type: str, number: str) -> None:
    """The characters and length of an 18-character number, with this document's words."""
    _characters(
        number,
        idnumber.ALLOWED,
        _(
            "Character %(position)s of the number, “%(character)s” (%(code)s), is not a digit "
            "0-9 or X: type the number again with ordinary digits."
        ),
    )
    if len(number) != 18:
        raise ValidationError(
            _(
                "The number of a %(document)s has 18 characters: 17 digits and a final digit "
                "or X (%(length)s characters entered)."
            ),
            code="shape",
            params={"document": DocumentType(document_type).label, "length": len(number)},
        )


def _residence(document_type: str, number: str) -> Document:
    _eighteen(document_type, number)
    prefixes = RESIDENCE_PREFIXES[document_type]
    if not number.startswith(prefixes):
        raise ValidationError(
            _("The number of a %(document)s starts with %(prefixes)s.")
            % {"document": DocumentType(document_type).label, "prefixes": "、".join(prefixes)},
            code="prefix",
        )
    return _from_idnumber(document_type, number)


def _hm_permit(number: str) -> Document:
    _characters(number, DIGITS | LETTERS, _not_digit_or_letter())
    if not _HM_PERMIT.match(number):
        raise ValidationError(
            _(
                "The number of a mainland travel permit for Hong Kong and Macao residents is H "
                "(Hong Kong) or M (Macao) and 8 digits, on older cards 10 digits."
            ),
            code="shape",
        )
    # The renewal count changes with every new card; the person stays the same.
    return Document(DocumentType.HK_MACAO_PERMIT, number[:9], None, "")


def _tw_permit(number: str) -> Document:
    if re.search(r"[A-Z()（）]", number):
        # The booklets with a letter such as (B) were issued until 2015 and were valid for
        # five years: all have expired, and the card that replaced them keeps the 8 digits.
        raise ValidationError(
            _(
                "Booklet numbers with letters are no longer valid: enter the 8-digit number "
                "of the person's current card."
            ),
            code="old_format",
        )
    _characters(
        number,
        DIGITS,
        _(
            "Character %(position)s of the number, “%(character)s” (%(code)s), is not a digit "
            "0-9: type the number again with ordinary digits."
        ),
    )
    if not _TW_PERMIT.match(number):
        raise ValidationError(
            _(
                "The number of a mainland travel permit for Taiwan residents has 8 digits "
                "(%(length)s entered)."
            ),
            code="shape",
            params={"length": len(number)},
        )
    return Document(DocumentType.TAIWAN_PERMIT, number[:8], None, "")


def _passport(number: str) -> Document:
    _characters(number, DIGITS | LETTERS, _not_digit_or_letter())
    if not _PASSPORT.match(number):
        raise ValidationError(
            _("A passport number has 5 to 20 letters and digits (%(length)s characters entered)."),
            code="shape",
            params={"length": len(number)},
        )
    if len(number) == 18:
        # A mainland ID card number typed as a passport's would be a second document of one
        # person, apart from her record (the blind index keys a passport by type and number).
        try:
            _id_card(number)
        except ValidationError:
            pass
        else:
            raise ValidationError(
                _("This is the number of a resident identity card, not of a passport: choose "
                  "that document type."),
                code="other_type",
            )  # fmt: skip
    return Document(DocumentType.PASSPORT, number, None, "")


def _foreign_permanent(number: str) -> Document:
    if number[:1] in DIGITS:
        _eighteen(DocumentType.FOREIGN_PERMANENT, number)
        if not number.startswith("9"):
            raise ValidationError(
                _("An 18-digit foreigner's permanent residence ID card number starts with 9."),
                code="prefix",
            )
        return _from_idnumber(DocumentType.FOREIGN_PERMANENT, number)
    _characters(number, DIGITS | LETTERS, _not_digit_or_letter())
    if not _PR_OLD.match(number):
        raise ValidationError(
            _(
                "A foreigner's permanent residence ID card number has 18 digits starting "
                "with 9, or on the 2004 card 3 letters and 12 digits."
            ),
            code="shape",
        )
    return Document(DocumentType.FOREIGN_PERMANENT, number, None, "")


def search_keys(text: str) -> list[str]:
    """The lookup keys of every document a searched number can be, for the member search."""
    keys = []
    for document_type in DocumentType.values:
        try:
            document = parse(document_type, text)
        except ValidationError:
            continue
        keys.append(lookup_key(document_type, document.number))
    return keys
