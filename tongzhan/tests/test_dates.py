"""Days as the offices count them."""

import datetime

import pytest

from tongzhan.dates import working_days_after

MONDAY = datetime.date(2026, 11, 2)


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (MONDAY, 0, MONDAY),
        (MONDAY, 1, datetime.date(2026, 11, 3)),
        (MONDAY, 4, datetime.date(2026, 11, 6)),  # Friday
        (MONDAY, 5, datetime.date(2026, 11, 9)),  # across the weekend: the next Monday
        (MONDAY, 15, datetime.date(2026, 11, 23)),
        (datetime.date(2026, 11, 6), 1, datetime.date(2026, 11, 9)),  # Friday to Monday
        (datetime.date(2026, 11, 7), 1, datetime.date(2026, 11, 9)),  # Saturday to Monday
        (datetime.date(2026, 11, 8), 15, datetime.date(2026, 11, 27)),  # from a Sunday
        (datetime.date(2026, 12, 24), 5, datetime.date(2026, 12, 31)),  # no holiday calendar
    ],
)
def test_working_days_after_skips_weekends(day, n, expected):
    assert working_days_after(day, n) == expected


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError):
        working_days_after(MONDAY, -1)
