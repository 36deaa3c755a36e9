"""Days as the offices count them: from local midnight (Asia/Shanghai) to the next."""

import datetime

from django.utils import timezone


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The first moment of `day` in local time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def local_days(first: datetime.date, last: datetime.date):
    """The moments from `first` to `last`, both days included: (start, end exclusive)."""
    return local_midnight(first), local_midnight(last + datetime.timedelta(days=1))
