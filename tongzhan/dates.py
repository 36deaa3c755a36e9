"""Days as the offices count them: from local midnight (Asia/Shanghai) to the next."""

import datetime

from django.utils import timezone


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The first moment of `day` in local time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def local_days(first: datetime.date, last: datetime.date):
    """The moments from `first` to `last`, both days included: (start, end exclusive)."""
    return local_midnight(first), local_midnight(last + datetime.timedelta(days=1))


def working_days_after(day: datetime.date, n: int) -> datetime.date:
    """The day `n` working days after `day` (Monday to Friday; `day` itself not counted).

    Weekends only: there is no holiday calendar, so a public holiday (and a weekend day made
    a working day in its place) counts as the calendar says. A deadline that falls in a
    holiday week is to be checked by the staff who keep it.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    while n:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day
