"""The district's comparison table (issue 13): one row per street, or per community of a
street, with members, per-member rates, completeness and the open assessment's scores.

Every number is the dashboard's own (`Dashboard.by_area`); this module only divides and adds
the assessment totals (`assessment.standings.standings`)."""

import dataclasses
import decimal

from django.http import Http404
from django.utils.translation import gettext as _

from assessment.models import Period
from assessment.standings import standings
from tongzhan import spreadsheets as xlsx
from tongzhan.models import Area

from .stats import Dashboard, Row, link


def per_hundred(part: int, members: int) -> float | None:
    """`part` per 100 members, to one decimal; None where nobody is registered."""
    return round(100 * part / members, 1) if members else None


@dataclasses.dataclass
class Line:
    """One street or community of the table."""

    row: Row  # the dashboard's by-area row: label, members and its lists
    drill_url: str  # the street's communities; "" for a community
    score: decimal.Decimal | None

    @property
    def members(self) -> int:
        return self.row.count

    @property
    def activities_rate(self):
        return per_hundred(self.row.extra["activities"], self.members)

    @property
    def visits_rate(self):
        return per_hundred(self.row.extra["visits"], self.members)

    @property
    def needs_resolved_rate(self):
        return per_hundred(self.row.extra["needs_resolved"], self.members)


class Comparison:
    """The table a user sees: their streets, or the communities of one of them (`code`)."""

    def __init__(self, user, code: str | None = None):
        self.street = None
        if code:
            if not code.isdigit():  # an area code is digits; anything else names no area
                raise Http404
            self.street = (
                Area.objects.visible_to(user).filter(code=code, level=Area.Level.STREET).first()
            )
            if self.street is None:
                raise Http404
        self.dashboard = Dashboard(user, within=self.street)
        self.period = self._open_period(user)

    def _open_period(self, user) -> Period | None:
        return (
            Period.objects.visible_to(user)
            .filter(state=Period.State.OPEN)
            .order_by("-starts_on")
            .first()
        )

    @property
    def title(self) -> str:
        if self.street is not None:
            return _("Communities of %(street)s compared") % {"street": self.street.name}
        return _("Areas compared")

    def _scores(self) -> dict[int, decimal.Decimal]:
        """Breakdown area id → the open period's total score: a community's own, a street's
        the mean of its communities'."""
        if self.period is None:
            return {}
        totals: dict[int, list[decimal.Decimal]] = {}
        for standing in standings(self.period):
            area = self.dashboard._breakdown_of(standing.community)
            if area is not None:
                totals.setdefault(area.pk, []).append(standing.total)
        return {
            pk: (sum(values) / len(values)).quantize(decimal.Decimal("0.1"))
            for pk, values in totals.items()
        }

    @property
    def lines(self) -> list[Line]:
        scores = self._scores()
        areas = {area.code: area for area in self.dashboard.breakdown}
        lines = []
        for row in self.dashboard.by_area:
            area = areas[row.extra["code"]]
            drill = link("dashboards:compare", area=area.code)
            lines.append(
                Line(row, drill if area.level == Area.Level.STREET else "", scores.get(area.pk))
            )
        return lines


def columns() -> list[str]:
    """The headings of the table and of its spreadsheet, in order."""
    return [
        _("Area"),
        _("Registered members"),
        _("Activities, last 12 months"),
        _("Activities per 100 members"),
        _("Visits, last 12 months"),
        _("Visits per 100 members"),
        _("Needs resolved this year"),
        _("Needs resolved per 100 members"),
        _("Complete records"),
        _("Assessment score so far"),
    ]


def compare_workbook(comparison: Comparison) -> tuple[bytes, int]:
    """The table as an .xlsx ready to print: title, headings repeated on every page, one row
    per area; empty cells where a rate has no members to divide by. Returns bytes and rows."""
    headings = columns()
    boxed = xlsx.Style(border=True)
    count = xlsx.Style(border=True, number_format="#,##0")
    rate = xlsx.Style(border=True, number_format="0.0")
    book = xlsx.Book()
    widths = {1: 18, **dict.fromkeys(range(2, len(headings) + 1), 12)}
    sheet = book.sheet(_("Comparison")[:31], widths=widths, freeze="B3", title_rows=(2, 2))
    title = comparison.title
    if comparison.period is not None:
        title = f"{title}（{comparison.period.name}）"
    sheet.merge(1, 1, 1, len(headings))
    sheet.write(1, 1, title, xlsx.Style(bold=True, size=14, horizontal="center"))
    head = xlsx.Style(bold=True, border=True, horizontal="center", vertical="center", wrap=True)
    for column, heading in enumerate(headings, 1):
        sheet.write(2, column, heading, head)

    def cell(value, style):
        return xlsx.number(value, style) if value is not None else xlsx.text("", boxed)

    lines = comparison.lines
    for line in lines:
        extra = line.row.extra
        sheet.append([
            xlsx.text(line.row.label, boxed),
            cell(line.members, count),
            cell(extra["activities"], count),
            cell(line.activities_rate, rate),
            cell(extra["visits"], count),
            cell(line.visits_rate, rate),
            cell(extra["needs_resolved"], count),
            cell(line.needs_resolved_rate, rate),
            cell(extra["complete_share"], rate),
            cell(line.score, rate),
        ])  # fmt: skip
    return book.bytes(), len(lines)
