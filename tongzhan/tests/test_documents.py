"""The format of every document's number (issue 14): valid ones, refused ones and why."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from tongzhan import documents
from tongzhan.documents import DocumentType as D
from tongzhan.idnumber import check_character
from tongzhan.masking import mask_id_number


def eighteen(prefix: str, birth=datetime.date(1980, 5, 3), sequence="123") -> str:
    first17 = f"{prefix}{birth:%Y%m%d}{sequence}"
    return first17 + check_character(first17)


def refused(document_type, raw) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        documents.parse(document_type, raw)
    return caught.value


ARABIC_ONE = "\u0661"  # ١, a digit to Python's int() and \d


@pytest.mark.parametrize(
    "document_type, raw, number, birth, sex",
    [
        (D.ID_CARD, eighteen("140105"), eighteen("140105"), datetime.date(1980, 5, 3), "M"),
        (D.HK_MACAO_RESIDENCE, eighteen("810000"), None, datetime.date(1980, 5, 3), "M"),
        (D.HK_MACAO_RESIDENCE, eighteen("820000", sequence="124"), None, None, "F"),
        (D.TAIWAN_RESIDENCE, eighteen("830000"), None, datetime.date(1980, 5, 3), "M"),
        (D.HK_MACAO_PERMIT, "H12345678", "H12345678", None, ""),
        (D.HK_MACAO_PERMIT, "m 1234 5678", "M12345678", None, ""),
        # The 1999 card's two renewal digits: the same person as the 9-character number.
        (D.HK_MACAO_PERMIT, "H1234567801", "H12345678", None, ""),
        (D.TAIWAN_PERMIT, "01234567", "01234567", None, ""),
        (D.TAIWAN_PERMIT, "０１２３４５６７", "01234567", None, ""),
        (D.TAIWAN_PERMIT, "0123456702", "01234567", None, ""),
        (D.PASSPORT, "e12345678", "E12345678", None, ""),
        (D.PASSPORT, "AB12C", "AB12C", None, ""),
        (D.FOREIGN_PERMANENT, "USA110080503001", "USA110080503001", None, ""),
        (D.FOREIGN_PERMANENT, eighteen("931840"), None, datetime.date(1980, 5, 3), "M"),
    ],
)
def test_valid_numbers_of_every_document(document_type, raw, number, birth, sex):
    parsed = documents.parse(document_type, raw)
    assert parsed.type == document_type
    assert parsed.number == (number or raw)
    if birth is not None:
        assert parsed.birth_date == birth
    if sex or parsed.birth_date is None:
        assert parsed.sex == sex
    # Only the 18-character numbers carry the date of birth and sex.
    assert (parsed.birth_date is not None) == (len(parsed.number) == 18)
    assert documents.carries_birth(document_type, parsed.number) == (parsed.birth_date is not None)


@pytest.mark.parametrize(
    "document_type, raw, code",
    [
        (D.ID_CARD, "", "required"),
        (D.ID_CARD, eighteen("810000"), "other_type"),
        (D.ID_CARD, eighteen("931840"), "other_type"),
        (D.ID_CARD, eighteen("140105")[:17] + "0", "check"),
        (D.HK_MACAO_RESIDENCE, "", "required"),
        (D.HK_MACAO_RESIDENCE, eighteen("830000"), "prefix"),
        (D.HK_MACAO_RESIDENCE, eighteen("140105"), "prefix"),
        (D.HK_MACAO_RESIDENCE, eighteen("810000")[:17], "shape"),
        (D.HK_MACAO_RESIDENCE, eighteen("810000")[:17] + "0", "check"),
        (D.TAIWAN_RESIDENCE, eighteen("810000"), "prefix"),
        (D.HK_MACAO_PERMIT, "K12345678", "shape"),
        (D.HK_MACAO_PERMIT, "H1234567", "shape"),
        (D.HK_MACAO_PERMIT, "H123456789", "shape"),
        (D.HK_MACAO_PERMIT, "H12345678-0", "character"),
        (D.TAIWAN_PERMIT, "1234567", "shape"),
        (D.TAIWAN_PERMIT, "123456789", "shape"),
        (D.TAIWAN_PERMIT, "1234567801(B)", "old_format"),
        (D.TAIWAN_PERMIT, "12345678B", "old_format"),
        (D.PASSPORT, "E123", "shape"),
        (D.PASSPORT, "E" * 21, "shape"),
        (D.PASSPORT, "E1234-5678", "character"),
        (D.FOREIGN_PERMANENT, "US110080503001", "shape"),
        (D.FOREIGN_PERMANENT, eighteen("140105"), "prefix"),
        (D.FOREIGN_PERMANENT, eighteen("931840")[:17] + "0", "check"),
        ("driving_licence", "12345678", "type"),
    ],
)
def test_invalid_numbers_are_refused_with_their_reason(document_type, raw, code):
    assert refused(document_type, raw).code == code


@pytest.mark.parametrize(
    "document_type, raw, position",
    [
        (D.ID_CARD, eighteen("140105")[:3] + ARABIC_ONE + eighteen("140105")[4:], 4),
        (D.HK_MACAO_RESIDENCE, "81000" + ARABIC_ONE + eighteen("810000")[6:], 6),
        (D.TAIWAN_RESIDENCE, eighteen("830000")[:10] + ARABIC_ONE + eighteen("830000")[11:], 11),
        (D.HK_MACAO_PERMIT, "H1234" + ARABIC_ONE + "678", 6),
        (D.TAIWAN_PERMIT, "0123456" + ARABIC_ONE, 8),
        (D.PASSPORT, "E12" + ARABIC_ONE + "45678", 4),
        (D.PASSPORT, "Е12345678", 1),  # a Cyrillic Е, which looks like the Latin E
        (D.FOREIGN_PERMANENT, "USA11008050300" + ARABIC_ONE, 15),
        (D.FOREIGN_PERMANENT, "9" + ARABIC_ONE + eighteen("931840")[2:], 2),
    ],
)
def test_a_digit_of_another_script_is_refused_by_its_position(document_type, raw, position):
    error = refused(document_type, raw)
    assert error.code == "character"
    assert error.params["position"] == position


def test_the_lookup_key_of_the_id_card_is_the_number_alone_so_stored_hashes_stay_valid():
    number = eighteen("140105")
    assert documents.lookup_key(D.ID_CARD, number) == number
    assert documents.lookup_key(D.PASSPORT, "E12345678") == "passport:E12345678"
    # The same characters under two types are two documents.
    assert documents.lookup_key(D.PASSPORT, "01234567") != documents.lookup_key(
        D.TAIWAN_PERMIT, "01234567"
    )


def test_search_keys_cover_every_type_a_number_can_be():
    keys = documents.search_keys("01234567")
    assert "tw_permit:01234567" in keys and "passport:01234567" in keys
    assert documents.search_keys(eighteen("140105"))[0] == eighteen("140105")
    assert "hm_permit:H12345678" in documents.search_keys("h1234567801")


@pytest.mark.parametrize(
    "number, masked",
    [
        (eighteen("140105"), "140105********" + eighteen("140105")[-4:]),
        (eighteen("810000"), "810000********" + eighteen("810000")[-4:]),
        ("USA110080503001", "USA********3001"),
        ("H12345678", "H******78"),
        ("01234567", "0*****67"),
        ("AB12C", "A***C"),
        ("E1234567890123456789", "E12*************6789"),
    ],
)
def test_masking_keeps_the_first_and_last_characters_of_every_document(number, masked):
    assert mask_id_number(number) == masked
    # Never more than about a third of the number shows.
    assert sum(c != "*" for c in masked) <= max(2, len(number) * 0.6)
