"""统计报表: the standard statistical tables, as offices file them, in .xlsx.

Each report is a table of areas (the user's streets or communities) by columns grouped under
merged headers, with a totals row, under a title, the reporting unit, the period and the date.
Totals are written as numbers, not formulas, so any reader sees them without recalculating.
"""

import dataclasses
from collections import defaultdict

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.models import Activity, ActivityType, Need
from members.models import Category, MemberTally
from tongzhan import spreadsheets as xlsx
from tongzhan.models import Area

from .stats import Dashboard


@dataclasses.dataclass
class Table:
    """Columns in groups (a group's label over its sub-labels) and one row per area."""

    groups: list[tuple[str, list[str]]]
    rows: list[tuple[str, list[int]]]

    @property
    def totals(self) -> list[int]:
        width = sum(max(len(labels), 1) for _group, labels in self.groups)
        return [sum(values[index] for _label, values in self.rows) for index in range(width)]


class RowsByArea:
    """Which row of a report a record of an area counts in: the user's breakdown area that
    contains it, or, above that level, the area itself (its own work, 本级)."""

    def __init__(self, dashboard: Dashboard):
        self.dashboard = dashboard
        self.areas = {area.pk: area for area in dashboard.areas}
        breakdown = dashboard.breakdown
        if not breakdown and dashboard.user.area is not None:
            breakdown = [dashboard.user.area]
        self.breakdown = breakdown
        self.own: dict[int, Area] = {}  # areas above the breakdown that have records

    def key(self, area_id: int) -> int | None:
        area = self.areas.get(area_id)
        if area is None:
            return None
        for candidate in self.breakdown:
            if area.is_within(candidate):
                return candidate.pk
        self.own[area.pk] = area
        return area.pk

    def labelled(self, values: dict[int, list[int]], width: int) -> list[tuple[str, list[int]]]:
        rows = [(area.name, values.get(area.pk, [0] * width)) for area in self.breakdown]
        for area in sorted(self.own.values(), key=lambda item: item.code):
            rows.append((_("%(area)s (own)") % {"area": area.name}, values[area.pk]))
        return rows


def members_by_category(dashboard: Dashboard, since, until) -> Table:
    categories = list(Category.objects.all())
    index = {str(category.pk): position + 1 for position, category in enumerate(categories)}
    width = len(categories) + 1
    rows = RowsByArea(dashboard)
    values: dict[int, list[int]] = defaultdict(lambda: [0] * width)
    tallies = MemberTally.objects.filter(
        community_id__in=dashboard.community_ids,
        dimension__in=[MemberTally.Dimension.TOTAL, MemberTally.Dimension.CATEGORY],
    ).values_list("community_id", "dimension", "value", "count")
    for community, dimension, value, count in tallies:
        key = rows.key(community)
        if key is None:
            continue
        position = 0 if dimension == MemberTally.Dimension.TOTAL else index[value]
        values[key][position] += count
    groups = [(_("Members (each counted once)"), [])] + [
        (category.name, []) for category in categories
    ]
    return Table(groups, rows.labelled(values, width))


def activities_by_type(dashboard: Dashboard, since, until) -> Table:
    types = list(ActivityType.objects.all())
    index = {kind.pk: position for position, kind in enumerate(types)}
    width = 2 * (len(types) + 1)
    rows = RowsByArea(dashboard)
    values: dict[int, list[int]] = defaultdict(lambda: [0] * width)
    # The area's own work: activities organised within it, not the joint ones above it.
    counted = (
        Activity.objects.filter(area_id__in=list(rows.areas))
        .filter(starts_at__date__gte=since, starts_at__date__lte=until)
        .values_list("area_id", "type_id")
        .annotate(n=Count("id"), served=Sum("people_served"))
        .order_by()
    )
    for area_id, type_id, n, served in counted:
        key = rows.key(area_id)
        if key is None:
            continue
        for position in (0, 2 * (index[type_id] + 1)):
            values[key][position] += n
            values[key][position + 1] += served or 0
    sub = [_("Number of activities"), _("People served")]
    groups = [(_("All types"), sub)] + [(kind.name, sub) for kind in types]
    return Table(groups, rows.labelled(values, width))


def needs_by_kind(dashboard: Dashboard, since, until) -> Table:
    kinds, statuses = Need.Kind.choices, Need.Status.choices
    width = len(statuses) * (len(kinds) + 1)
    kind_index = {value: position + 1 for position, (value, _label) in enumerate(kinds)}
    status_index = {value: position for position, (value, _label) in enumerate(statuses)}
    rows = RowsByArea(dashboard)
    values: dict[int, list[int]] = defaultdict(lambda: [0] * width)
    # Raised in the period by 提出时间 (`Need.raised_on`, the visit's day), not by the day the
    # need was entered: a need entered late counts in the period it was raised in.
    # As the dashboard counts them: an open need under the community that keeps its member
    # now, a closed one under the community that closed it (its work stays with it when the
    # member moves away).
    communities = dashboard.community_ids
    counted = (
        Need.objects.filter(
            Q(member__community_id__in=communities) | Q(community_id__in=communities),
            raised_on__gte=since,
            raised_on__lte=until,
        )
        .values_list("member__community_id", "community_id", "kind", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for keeping, working, kind, status, n in counted:
        key = rows.key(keeping if status in Need.OPEN else working)
        if key is None:
            continue
        for group in (0, kind_index[kind]):
            values[key][group * len(statuses) + status_index[status]] += n
    sub = [str(label) for _value, label in statuses]
    groups = [(_("All kinds"), sub)] + [(str(label), sub) for _value, label in kinds]
    return Table(groups, rows.labelled(values, width))


@dataclasses.dataclass(frozen=True)
class Report:
    key: str
    title: str  # after the reporting unit's name
    unit: str
    build: object
    at_a_time: bool = False  # a count of the registry now, not of a period


REPORTS = {
    report.key: report
    for report in (
        Report(
            "members",
            gettext_lazy("Members by category"),
            gettext_lazy("Unit: persons"),
            members_by_category,
            at_a_time=True,
        ),
        Report(
            "activities",
            gettext_lazy("Activities by type"),
            gettext_lazy("Unit: activities, people served"),
            activities_by_type,
        ),
        Report(
            "needs",
            gettext_lazy("Needs by kind and status"),
            gettext_lazy("Unit: needs"),
            needs_by_kind,
        ),
    )
}

CENTRED = xlsx.Style(horizontal="center", vertical="center", wrap=True)
TITLE = dataclasses.replace(CENTRED, bold=True, size=16)
HEADING = dataclasses.replace(CENTRED, bold=True, border=True)
LABEL = xlsx.Style(border=True)
COUNT = xlsx.Style(border=True, number_format="#,##0")
TOTAL_LABEL = dataclasses.replace(LABEL, bold=True)
TOTAL = dataclasses.replace(COUNT, bold=True)


def workbook(report: Report, dashboard: Dashboard, since, until) -> tuple[bytes, int]:
    """The report as .xlsx bytes, and the number of area rows in it."""
    table = report.build(dashboard, since, until)
    unit_name = dashboard.user.area.name if dashboard.user.area else _("All areas")
    width = 1 + sum(max(len(labels), 1) for _group, labels in table.groups)
    # Counts are short: narrow columns keep a wide table (37 columns) legible on one page.
    widths = {1: 18} | dict.fromkeys(range(2, width + 1), 10 if width <= 15 else 7)
    book = xlsx.Book()
    sheet = book.sheet(str(report.title)[:31], widths=widths, freeze="B5", title_rows=(3, 4))

    sheet.merge(1, 1, 1, width)
    sheet.write(1, 1, f"{unit_name}{report.title}", TITLE)
    sheet.row_height(1, 30)
    today = timezone.localdate()
    if report.at_a_time:
        period = _("As of %(day)s") % {"day": today.isoformat()}
    else:
        period = _("Period: %(since)s to %(until)s") % {
            "since": since.isoformat(),
            "until": until.isoformat(),
        }
    third = max(width // 3, 1)
    sheet.merge(2, 1, 2, third)
    sheet.write(2, 1, _("Reporting unit: %(unit)s") % {"unit": unit_name})
    sheet.merge(2, third + 1, 2, width - 1)
    sheet.write(2, third + 1, period, xlsx.Style(horizontal="center"))
    sheet.write(2, width, str(report.unit), xlsx.Style(horizontal="right"))

    # Two header rows: a group over its sub-columns, or one label over both rows.
    sheet.merge(3, 1, 4, 1)
    sheet.write(3, 1, _("Area"))
    column = 2
    for group, labels in table.groups:
        if labels:
            sheet.merge(3, column, 3, column + len(labels) - 1)
            sheet.write(3, column, group)
            for offset, label in enumerate(labels):
                sheet.write(4, column + offset, label)
            column += len(labels)
        else:
            sheet.merge(3, column, 4, column)
            sheet.write(3, column, group)
            column += 1
    for row in (3, 4):
        for column in range(1, width + 1):
            sheet.write(row, column, None, HEADING)

    for label, values in table.rows:
        sheet.append([xlsx.text(label, LABEL), *(xlsx.number(value, COUNT) for value in values)])
    sheet.append([
        xlsx.text(_("Total"), TOTAL_LABEL),
        *(xlsx.number(value, TOTAL) for value in table.totals),
    ])  # fmt: skip
    sheet.append([])
    sheet.append([_("Made on %(day)s by %(who)s") % {
        "day": today.isoformat(),
        "who": dashboard.user.get_full_name() or dashboard.user.username,
    }])  # fmt: skip

    sheet.row_height(3, 32)
    sheet.row_height(4, 32)  # sub-labels such as 服务群众人次 take two lines in narrow columns
    return book.bytes(), len(table.rows)
