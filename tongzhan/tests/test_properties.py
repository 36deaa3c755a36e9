"""Property-based tests (hypothesis): ID numbers and their masking on any input."""

import datetime
import string

from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from tongzhan import idnumber
from tongzhan.masking import mask_id_number, mask_phone

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
