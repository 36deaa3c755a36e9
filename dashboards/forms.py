"""The period of the statistical reports: two days, or a preset that fills them in."""

import calendar
import dataclasses
import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from tongzhan.filters import DayField


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def this_month(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return today.replace(day=1), _month_end(today.year, today.month)


def this_quarter(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    first = 3 * ((today.month - 1) // 3) + 1
    return datetime.date(today.year, first, 1), _month_end(today.year, first + 2)


def first_half(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return datetime.date(today.year, 1, 1), datetime.date(today.year, 6, 30)


def this_year(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31)


def last_year(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return datetime.date(today.year - 1, 1, 1), datetime.date(today.year - 1, 12, 31)


@dataclasses.dataclass(frozen=True)
class Preset:
    key: str
    label: str
    days: object  # today -> (first day, last day), whole periods as offices report them


PRESETS = {
    preset.key: preset
    for preset in (
        Preset("this_month", _("This month"), this_month),
        Preset("this_quarter", _("This quarter"), this_quarter),
        Preset("first_half", _("First half of the year"), first_half),
        Preset("this_year", _("This year"), this_year),
        Preset("last_year", _("Last year"), last_year),
    )
}


class ReportPeriodForm(forms.Form):
    """The days on the screen; the report to download is the button pressed (`report`)."""

    since = DayField(label=_("From"))
    until = DayField(label=_("To"))

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end of the period is before its start."))
        return data
