"""GB 11643 identity numbers, with real vectors from the standard and public examples."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from tongzhan import idnumber

# 11010519491231002X is the standard's own example; the others are public test numbers
# whose check characters were computed independently.
VALID = [
    ("11010519491231002X", datetime.date(1949, 12, 31), "F"),
    ("440524188001010014", datetime.date(1880, 1, 1), "M"),
    ("140105198001011233", datetime.date(1980, 1, 1), "M"),
    ("140106199212300028", datetime.date(1992, 12, 30), "F"),
]


def codes(error: ValidationError) -> set:
    return {e.code for e in error.error_list}


@pytest.mark.parametrize(("number", "birth", "sex"), VALID[:1] + VALID[2:])
def test_valid_numbers_decode_birth_date_and_sex(number, birth, sex):
    parsed = idnumber.parse(number)
    assert (parsed.number, parsed.birth_date, parsed.sex) == (number, birth, sex)


def test_check_character_of_the_standard_examples():
    assert idnumber.check_character("11010519491231002") == "X"
    assert idnumber.check_character("44052418800101001") == "4"


def test_birth_before_1900_is_refused_even_with_a_right_check_character():
    with pytest.raises(ValidationError) as error:
        idnumber.parse("440524188001010014")
    assert codes(error.value) == {"too_early"}


@pytest.mark.parametrize(
    "raw",
    [
        " 11010519491231002x ",
        "１１０１０５１９４９１２３１００２Ｘ",
        "110105 19491231 002X",
        "11010519491231002ｘ",
    ],
)
def test_spaces_full_width_characters_and_lower_case_x_are_normalised(raw):
    assert idnumber.parse(raw).number == "11010519491231002X"


@pytest.mark.parametrize("number", [n for n, _b, _s in VALID if n != "440524188001010014"])
def test_every_single_character_change_is_refused(number):
    for position in range(18):
        for replacement in "0123456789X":
            if replacement == number[position] or (replacement == "X" and position < 17):
                continue
            changed = number[:position] + replacement + number[position + 1 :]
            with pytest.raises(ValidationError):
                idnumber.parse(changed)


@pytest.mark.parametrize("number", [n for n, _b, _s in VALID if n != "440524188001010014"])
def test_every_adjacent_swap_is_refused(number):
    swaps = 0
    for position in range(17):
        a, b = number[position], number[position + 1]
        if a == b:
            continue
        swapped = number[:position] + b + a + number[position + 2 :]
        with pytest.raises(ValidationError):
            idnumber.parse(swapped)
        swaps += 1
    assert swaps >= 10


def test_a_mistyped_digit_is_reported_as_a_check_failure():
    with pytest.raises(ValidationError) as error:
        idnumber.parse("140105198001011234")
    assert codes(error.value) == {"check"}


def test_fifteen_digit_numbers_are_refused_with_the_upgraded_number():
    with pytest.raises(ValidationError) as error:
        idnumber.parse("110105491231002")
    assert codes(error.value) == {"old_format"}
    assert "11010519491231002X" in error.value.messages[0]


def test_upgrade_of_a_fifteen_digit_number_follows_the_standard():
    assert idnumber.upgrade_15("110105491231002") == "11010519491231002X"


def test_future_birth_dates_are_refused(settings):
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    first17 = f"140105{tomorrow:%Y%m%d}123"
    with pytest.raises(ValidationError) as error:
        idnumber.parse(first17 + idnumber.check_character(first17))
    assert codes(error.value) == {"future"}


def test_impossible_dates_are_refused():
    first17 = "14010519810229123"  # 1981 was not a leap year
    with pytest.raises(ValidationError) as error:
        idnumber.parse(first17 + idnumber.check_character(first17))
    assert codes(error.value) == {"birth_date"}


@pytest.mark.parametrize(
    "raw", ["", "1401051980", "14010519800101123", "1401051980010112345", "14010519800101123A"]
)
def test_wrong_shapes_are_refused(raw):
    with pytest.raises(ValidationError):
        idnumber.parse(raw)


def test_messages_are_in_chinese():
    with pytest.raises(ValidationError) as error:
        idnumber.parse("140105198001011234")
    assert "校验" in error.value.messages[0]


def test_an_arabic_indic_digit_is_refused_naming_its_position():
    # U+0661 looks like 1, and Python's \d, isdigit() and int() all take it as 1.
    number = "\u0661" + "11010519491231002X"[1:]
    assert int(number[0]) == 1
    with pytest.raises(ValidationError) as error:
        idnumber.parse(number)
    assert codes(error.value) == {"character"}
    assert error.value.messages == [
        "号码的第 1 个字符“\u0661”（U+0661）不是 0-9 的数字或 X，请用普通数字重新输入。"
    ]


def test_the_position_counts_the_characters_of_the_number_not_the_spaces():
    with pytest.raises(ValidationError) as error:
        idnumber.parse("110105 1949123l 002X")
    assert "第 14 个字符“l”" in error.value.messages[0]


def test_mathematical_and_circled_digits_are_not_taken_for_digits():
    # Unicode normalisation (NFKC) would turn these into 1; only full-width forms are mapped.
    for one in ("\U0001d7cf", "\u2460", "\u00b9"):
        with pytest.raises(ValidationError) as error:
            idnumber.parse(one + "11010519491231002X"[1:])
        assert codes(error.value) == {"character"}
