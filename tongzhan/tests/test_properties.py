"""Property-based tests (hypothesis): ID numbers and their masking on any input."""

import datetime
import string
import sys
import unicodedata

from django.core.exceptions import ValidationError
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tongzhan import idnumber
from tongzhan.masking import mask_id_number, mask_phone

# Every decimal digit Unicode knows (category Nd) but the ASCII and full-width ones, which
# stand for themselves: Arabic-Indic, Devanagari, Thai, mathematical bold, ...
FOREIGN_DIGITS = [
    character
    for character in map(chr, range(sys.maxunicode + 1))
    if unicodedata.category(character) == "Nd"
    and not ("0" <= character <= "9" or "０" <= character <= "９")
]
AREAS = st.sampled_from(["110105", "140105", "140106", "310104", "440305", "650102"])
BIRTHS = st.dates(min_value=datetime.date(1901, 1, 1), max_value=datetime.date(2020, 12, 31))


@st.composite
def valid_numbers(draw) -> str:
    first17 = (
        draw(AREAS)
        + draw(BIRTHS).strftime("%Y%m%d")
        + draw(st.text(string.digits, min_size=3, max_size=3))
    )
    return first17 + idnumber.check_character(first17)


@given(valid_numbers())
def test_every_valid_number_parses_to_its_own_birth_date_and_sex(number):
    parsed = idnumber.parse(number)
    assert parsed.number == number
    assert parsed.birth_date.strftime("%Y%m%d") == number[6:14]
    assert parsed.sex == ("M" if int(number[16]) % 2 else "F")
    # Written the way people type it: spaces, full-width digits, a lower-case x.
    typed = " ".join(number[i : i + 6] for i in range(0, 18, 6)).replace("X", "x")
    assert (
        idnumber.parse(typed.translate(str.maketrans("0123456789", "０１２３４５６７８９"))).number
        == number
    )


@given(valid_numbers(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_changed_character_is_refused(number, position, character):
    changed = number[:position] + character + number[position + 1 :]
    if changed == number or (position == 17 and character == "X" and number[17] == "X"):
        return
    try:
        idnumber.parse(changed)
    except ValidationError:
        return
    raise AssertionError(f"{changed} was accepted for {number}")


@given(st.text(max_size=40))
def test_parse_either_accepts_or_explains_anything(text):
    try:
        parsed = idnumber.parse(text)
    except ValidationError as refused:
        assert refused.messages and all(message.strip() for message in refused.messages)
    else:
        assert len(parsed.number) == 18


@given(valid_numbers())
def test_masking_keeps_the_area_and_the_last_four_and_hides_the_rest(number):
    masked = mask_id_number(number)
    assert len(masked) == 18 and masked[:6] == number[:6] and masked[-4:] == number[-4:]
    assert masked[6:14] == "*" * 8  # the date of birth is hidden


@settings(max_examples=200)
@given(st.text(alphabet=string.digits + "-+ ", max_size=24))
def test_a_masked_phone_never_shows_more_than_seven_characters(phone):
    masked = mask_phone(phone)
    assert len(masked) == len(phone)
    assert sum(1 for shown in masked if shown != "*") <= min(7, max(len(phone) - 4, 4))


def test_there_are_hundreds_of_other_decimal_digits():
    assert len(FOREIGN_DIGITS) > 600 and "\u0661" in FOREIGN_DIGITS


@st.composite
def numbers_with_a_foreign_digit(draw) -> tuple[str, str, int]:
    """A valid number, and the same number with one digit written in another script.

    The changed number passes every check the ASCII one passes when digits are read with
    int() or \\d, as they were: the same birth date, the same check character.
    """
    number = draw(valid_numbers())
    digit = draw(st.sampled_from(FOREIGN_DIGITS))
    position = draw(st.integers(0, 16))
    first17 = number[:position] + str(unicodedata.decimal(digit)) + number[position + 1 : 17]
    number = first17 + idnumber.check_character(first17)
    try:
        idnumber.parse(number)
    except ValidationError:
        assume(False)  # the ASCII digit made the birth date impossible
    return number, number[:position] + digit + number[position + 1 :], position


@given(numbers_with_a_foreign_digit())
def test_a_decimal_digit_of_any_other_script_is_refused(numbers):
    number, changed, position = numbers
    assert [int(character) for character in changed[:17]] == [int(c) for c in number[:17]]
    try:
        idnumber.parse(changed)
    except ValidationError as refused:
        assert refused.error_list[0].code == "character"
        assert f"第 {position + 1} 个字符" in refused.messages[0]
    else:
        raise AssertionError(f"{changed!r} was accepted as {number}")


def test_every_other_decimal_digit_is_refused_in_place_of_its_ascii_twin():
    number = "11010519491231002X"
    for digit in FOREIGN_DIGITS:
        ascii_digit = str(unicodedata.decimal(digit))
        position = number.index(ascii_digit) if ascii_digit in number else 6
        changed = number[:position] + digit + number[position + 1 :]
        try:
            idnumber.parse(changed)
        except ValidationError as refused:
            assert refused.error_list[0].code == "character", digit
        else:
            raise AssertionError(f"U+{ord(digit):04X} was accepted")
