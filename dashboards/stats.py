"""The numbers of the dashboards and reports, each within the viewer's scope.

Member numbers add up `members.MemberTally` rows (kept current by the services), activity,
need, resource and match numbers are counted from their tables. Every number comes with the
address of the list behind it, filtered so that the list counts the same records (but for
resources by kind and needs met through matches, which no list counts the same way).
"""

import dataclasses
import datetime
from collections import defaultdict
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from activities.models import (
    ActivityTally,
    ActivityType,
    Need,
    NeedQuerySet,
    Visit,
    organiser_ids,
)
from members.models import (
    Category,
    Ethnicity,
    Member,
    MemberTally,
    PoliticalStatus,
    contact_cutoff,
)
from resources.models import Kind, Match, Resource
from tongzhan.models import Area, User

D = MemberTally.Dimension
MONTHS = 12  # the months the dashboards look back over
NOT_CONTACTED_MONTHS = 12
# A stacked chart tells at most this many colours apart; the smaller series are summed as 其他.
MAX_SERIES = 8
# Age bands by year of birth (年龄 = 统计年度 − 出生年份): (from, to), None open-ended.
AGE_BANDS = [(None, 35), (36, 45), (46, 55), (56, 65), (66, None)]
# The level each role's dashboard breaks its numbers down by.
BREAKDOWN_LEVEL = {
    User.Role.DISTRICT: Area.Level.STREET,
    User.Role.STREET: Area.Level.COMMUNITY,
    User.Role.ADMIN: Area.Level.STREET,
}


def link(name: str, **query) -> str:
    """The address of a list with its filters."""
    query = {key: value for key, value in query.items() if value is not None}
    return reverse(name) + (f"?{urlencode(query)}" if query else "")


def month_keys(today: datetime.date, months: int = MONTHS) -> list[str]:
    """The last `months` months as "YYYY-MM", oldest first, this month last."""
    index = today.year * 12 + today.month - 1
    return [f"{i // 12}-{i % 12 + 1:02d}" for i in range(index - months + 1, index + 1)]


def month_bounds(key: str) -> tuple[datetime.date, datetime.date]:
    """First and last day of a month "YYYY-MM"."""
    year, month = (int(part) for part in key.split("-"))
    first = datetime.date(year, month, 1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following - datetime.timedelta(days=1)


def fold_series(
    series: list[tuple[str, list[int]]], limit: int = MAX_SERIES
) -> list[tuple[str, list[int]]]:
    """At most `limit` series of a stacked chart: the biggest ones in their own order, the
    rest summed into one series 其他 (last), so that every stack keeps its height. Series
    that are all zero are left out."""
    series = [(name, values) for name, values in series if any(values)]
    if len(series) <= limit:
        return series
    other = _("Other")
    ranked = sorted(
        (index for index, (name, _values) in enumerate(series) if name != other),
        key=lambda index: -sum(series[index][1]),
    )
    kept = set(ranked[: limit - 1])
    rest = [values for index, (_name, values) in enumerate(series) if index not in kept]
    return [series[index] for index in sorted(kept)] + [
        (other, [sum(v) for v in zip(*rest, strict=True)])
    ]


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclasses.dataclass
class Row:
    """One line of a table: a label, its numbers and the lists behind them."""

    label: str
    count: int
    url: str = ""
    extra: dict = dataclasses.field(default_factory=dict)


class Dashboard:
    """Everything a user's dashboard shows, computed on first use within their scope."""

    def __init__(self, user, today: datetime.date | None = None, within: Area | None = None):
        """`within`, a street the user sees, breaks the numbers down by its communities."""
        self.user = user
        self.within = within
        self.today = today or timezone.localdate()
        self.year = self.today.year
        self.months = month_keys(self.today)
        self.contact_since = contact_cutoff(NOT_CONTACTED_MONTHS, self.today)
        # Activities are counted over whole months, this one included to its last day.
        self.period_start = month_bounds(self.months[0])[0]
        self.period_end = month_bounds(self.months[-1])[1]

    # -- Scope --------------------------------------------------------------------------

    @cached_property
    def areas(self) -> list[Area]:
        """Every area the user sees (one query), in code order."""
        return list(Area.objects.visible_to(self.user).order_by("code"))

    @cached_property
    def community_ids(self) -> list[int]:
        return [area.pk for area in self.areas if area.level == Area.Level.COMMUNITY]

    @cached_property
    def breakdown(self) -> list[Area]:
        """The areas the user's numbers are broken down by: streets, or communities. A
        retired area (merged away, abolished) holds nothing live and gets no row."""
        current = [area for area in self.areas if area.retired_at is None]
        if self.within is not None:
            return [area for area in current if area.parent_id == self.within.pk]
        level = BREAKDOWN_LEVEL.get(self.user.role)
        if self.user.area is not None and self.user.area.level == Area.Level.STREET:
            level = Area.Level.COMMUNITY
        districts = [area for area in current if area.level == Area.Level.DISTRICT]
        if self.user.area is None and len(districts) > 1:
            return districts  # an administrator of several districts compares districts
        return [area for area in current if area.level == level] if level else []

    def _breakdown_of(self, area: Area | None) -> Area | None:
        """The breakdown area `area` lies in, if any."""
        if area is None:
            return None
        return next((candidate for candidate in self.breakdown if area.is_within(candidate)), None)

    # -- Members ------------------------------------------------------------------------

    @cached_property
    def tallies(self) -> dict[str, dict[str, int]]:
        """dimension → value → members, summed over the user's communities."""
        sums: dict[str, dict[str, int]] = defaultdict(dict)
        rows = (
            MemberTally.objects.filter(community_id__in=self.community_ids)
            .values_list("dimension", "value")
            .annotate(n=Sum("count"))
            .order_by()
        )
        for dimension, value, n in rows:
            sums[dimension][value] = n
        return sums

    def tally(self, dimension: str, value: str = "") -> int:
        return self.tallies.get(dimension, {}).get(value, 0)

    def _not_contacted(self, values: dict[str, int]) -> int:
        since = f"{self.contact_since:%Y-%m}"
        return sum(n for month, n in values.items() if month == "" or month < since)

    @cached_property
    def per_community(self) -> dict[int, dict[str, int]]:
        """community id → total, representatives, incomplete, not told, not contacted."""
        rows = MemberTally.objects.filter(
            community_id__in=self.community_ids,
            dimension__in=[
                D.TOTAL,
                D.REPRESENTATIVE,
                D.INCOMPLETE,
                D.NOT_INFORMED,
                D.LAST_CONTACT,
            ],
        ).values_list("community_id", "dimension", "value", "count")
        numbers: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        contacts: dict[int, dict[str, int]] = defaultdict(dict)
        for community, dimension, value, n in rows:
            if dimension == D.LAST_CONTACT:
                contacts[community][value] = n
            else:
                numbers[community][dimension] += n
        for community, values in contacts.items():
            numbers[community]["not_contacted"] = self._not_contacted(values)
        return numbers

    @cached_property
    def summary(self) -> list[Row]:
        total = self.tally(D.TOTAL)
        incomplete = self.tally(D.INCOMPLETE)
        return [
            Row(_("Registered members"), total, link("members:list")),
            Row(
                _("Representative figures"),
                self.tally(D.REPRESENTATIVE),
                link("members:list", is_representative="true"),
            ),
            Row(
                _("Not contacted in %(months)s months") % {"months": NOT_CONTACTED_MONTHS},
                self._not_contacted(self.tallies.get(D.LAST_CONTACT, {})),
                link("activities:not_contacted", months=NOT_CONTACTED_MONTHS),
            ),
            Row(
                _("Records missing fields"),
                incomplete,
                link("members:list", incomplete="true"),
                {"complete_share": share(total - incomplete, total)},
            ),
            # 告知 (PIPL arts. 17, 35): registered people not yet told what is kept and why.
            Row(
                _("Not yet told what is kept"),
                self.tally(D.NOT_INFORMED),
                link("members:list", not_informed="true"),
            ),
            Row(_("Open needs"), self.needs["open"], link("activities:need_list", show="open")),
            Row(
                _("Overdue needs"),
                self.needs["overdue"],
                link("activities:need_list", show="overdue"),
            ),
        ]

    @cached_property
    def categories(self) -> list[Row]:
        counts = self.tallies.get(D.CATEGORY, {})
        return [
            Row(
                category.name,
                counts.get(str(category.pk), 0),
                link("members:list", category=category.code),
                {"short": category.short_name or category.name},
            )
            for category in Category.objects.all()
        ]

    @cached_property
    def political_statuses(self) -> list[Row]:
        counts = self.tallies.get(D.POLITICAL_STATUS, {})
        rows = [
            Row(
                status.short_name or status.name,
                counts[str(status.pk)],
                link("members:list", political_status=status.code),
            )
            for status in PoliticalStatus.objects.all()
            if counts.get(str(status.pk))
        ]
        return sorted(rows, key=lambda row: -row.count)

    @cached_property
    def ethnicities(self) -> list[Row]:
        counts = self.tallies.get(D.ETHNICITY, {})
        present = [int(pk) for pk, n in counts.items() if pk and n]
        rows = [
            Row(group.name, counts[str(group.pk)], link("members:list", ethnicity=group.code))
            for group in Ethnicity.objects.filter(pk__in=present)
        ]
        return sorted(rows, key=lambda row: -row.count)

    @cached_property
    def sexes(self) -> list[Row]:
        counts = self.tallies.get(D.SEX, {})
        return [
            Row(str(label), counts.get(value, 0), link("members:list", sex=value))
            for value, label in Member.Sex.choices
        ]

    @cached_property
    def age_bands(self) -> list[Row]:
        by_year = {int(year): n for year, n in self.tallies.get(D.BIRTH_YEAR, {}).items() if year}
        rows = []
        for low, high in AGE_BANDS:
            born_from = self.year - high if high is not None else None
            born_to = self.year - low if low is not None else None
            count = sum(
                n
                for year, n in by_year.items()
                if (born_from is None or year >= born_from) and (born_to is None or year <= born_to)
            )
            if low is None:
                label = _("%(age)s and under") % {"age": high}
            elif high is None:
                label = _("%(age)s and over") % {"age": low}
            else:
                label = f"{low}–{high}"
            rows.append(
                Row(label, count, link("members:list", born_from=born_from, born_to=born_to))
            )
        return rows

    @cached_property
    def joined_and_left(self) -> list[Row]:
        joined = self.tallies.get(D.JOINED, {})
        left = self.tallies.get(D.LEFT, {})
        return [
            Row(
                month,
                joined.get(month, 0),
                link("members:list", registered=month, status=""),
                {
                    "left": left.get(month, 0),
                    "left_url": link("members:list", left=month),
                },
            )
            for month in self.months
        ]

    # -- Activities and needs -----------------------------------------------------------

    @cached_property
    def activity_types(self) -> list[ActivityType]:
        return list(ActivityType.objects.all())

    @cached_property
    def _activity_counts(self) -> list[tuple]:
        """(area id, month, type id, activities, people served) over the last MONTHS, of the
        activities the user sees (`Activity.objects.visible_to`)."""
        tallies = ActivityTally.objects.filter(
            month__gte=self.period_start, month__lte=self.period_end
        )
        ids = organiser_ids(self.user)
        if ids is not None:
            tallies = tallies.filter(area_id__in=ids)
        return list(tallies.values_list("area_id", "month", "type_id", "count", "people_served"))

    @cached_property
    def activities_by_month(self) -> list[Row]:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        by_type: dict[tuple[str, int], int] = defaultdict(int)
        for _area, month, type_id, n, served in self._activity_counts:
            key = f"{month:%Y-%m}"
            counts[key][0] += n
            counts[key][1] += served or 0
            by_type[key, type_id] += n
        rows = []
        for month in self.months:
            first, last = month_bounds(month)
            rows.append(
                Row(
                    month,
                    counts[month][0],
                    link("activities:list", start=first.isoformat(), end=last.isoformat()),
                    {
                        "served": counts[month][1],
                        "types": [by_type[month, kind.pk] for kind in self.activity_types],
                    },
                )
            )
        return rows

    @cached_property
    def activity_type_series(self) -> list[tuple[str, list[int]]]:
        """Activities per month by type, as the stacked chart draws them (`fold_series`)."""
        return fold_series(
            [
                (kind.name, [row.extra["types"][index] for row in self.activities_by_month])
                for index, kind in enumerate(self.activity_types)
            ]
        )

    @cached_property
    def activities_by_type(self) -> list[Row]:
        counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for _area, _month, type_id, n, served in self._activity_counts:
            counts[type_id][0] += n
            counts[type_id][1] += served or 0
        return [
            Row(
                kind.name,
                counts[kind.pk][0],
                link(
                    "activities:list",
                    type=kind.code,
                    start=self.period_start.isoformat(),
                    end=self.period_end.isoformat(),
                ),
                {"served": counts[kind.pk][1]},
            )
            for kind in self.activity_types
        ]

    @cached_property
    def _need_counts(self) -> dict[int, dict[str, int]]:
        """community id → open and overdue needs of the members it keeps (what its lists
        show), and needs it resolved this year (its work, `Need.community`, which stays with
        it when a member moves away). A need referred to an area above the user's is open
        there, not here (`NeedQuerySet.is_held_within`), as in the need list."""
        this_year = (datetime.date(self.year, 1, 1), self.today)
        kept = Q(member__community_id__in=self.community_ids) & NeedQuerySet.is_held_within(
            self.user
        )
        worked = Q(community_id__in=self.community_ids)
        rows = (
            Need.objects.filter(kept | worked)
            .values_list("member__community_id", "community_id")
            .annotate(
                open=Count("id", filter=kept & NeedQuerySet.is_open()),
                overdue=Count("id", filter=kept & NeedQuerySet.is_overdue(self.today)),
                resolved=Count("id", filter=worked & NeedQuerySet.is_resolved(this_year)),
            )
            .order_by()
        )
        counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for keeping, working, still_open, overdue, resolved in rows:
            counts[keeping]["open"] += still_open
            counts[keeping]["overdue"] += overdue
            counts[working]["resolved"] += resolved
        return counts

    @cached_property
    def _visit_counts(self) -> dict[int, int]:
        """community id → visits it made over the last MONTHS (`Visit.community`, where a
        visit's count stays when its members move away)."""
        rows = (
            Visit.objects.filter(
                community_id__in=self.community_ids,
                date__gte=self.period_start,
                date__lte=self.period_end,
            )
            .values_list("community_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        return dict(rows)

    @cached_property
    def needs(self) -> dict[str, int]:
        totals = {"open": 0, "overdue": 0, "resolved": 0}
        for counts in self._need_counts.values():
            for key in totals:
                totals[key] += counts[key]
        return totals

    @cached_property
    def need_rows(self) -> list[Row]:
        return [
            Row(_("Open"), self.needs["open"], link("activities:need_list", show="open")),
            Row(_("Overdue"), self.needs["overdue"], link("activities:need_list", show="overdue")),
            Row(
                _("Resolved this year"),
                self.needs["resolved"],
                link("activities:need_list", show="resolved"),
            ),
        ]

    # -- Resources and matches ----------------------------------------------------------

    @cached_property
    def resources_by_kind(self) -> list[Row]:
        """Resources valid today offered in the user's area and below (by the owner's area,
        as members are counted where they are registered), by kind. Not linked: the resource
        list also shows those serving the area from above and those run out."""
        counts = dict(
            Resource.objects.filter(area_id__in=[area.pk for area in self.areas])
            .valid_on(self.today)
            .values_list("kind")
            .annotate(n=Count("id"))
            .order_by()
        )
        return [Row(str(label), counts.get(kind, 0)) for kind, label in Kind.choices]

    @cached_property
    def _match_counts(self) -> tuple[dict[str, int], int]:
        """(month → matches made that month, needs met through matches): of the matches of
        the user's communities (`Match.area`, the need's community, as the ledger scopes
        them) made, or settled 已落实, over the last MONTHS. One query."""
        made = Q(matched_on__gte=self.period_start, matched_on__lte=self.period_end)
        met = Q(
            state=Match.State.FULFILLED,
            settled_on__gte=self.period_start,
            settled_on__lte=self.period_end,
        )
        rows = (
            Match.objects.filter(made | met, area_id__in=self.community_ids)
            .annotate(month=TruncMonth("matched_on"))
            .values_list("month")
            .annotate(made=Count("id", filter=made), met=Count("id", filter=met))
            .order_by()
        )
        by_month, met_total = {}, 0
        for month, n_made, n_met in rows:
            by_month[f"{month:%Y-%m}"] = n_made
            met_total += n_met
        return by_month, met_total

    @cached_property
    def matches_by_month(self) -> list[Row]:
        """Matches made per month, each linked to the two-way service ledger of its month."""
        counts = self._match_counts[0]
        rows = []
        for month in self.months:
            first, last = month_bounds(month)
            rows.append(
                Row(
                    month,
                    counts.get(month, 0),
                    link("resources:ledger", since=first.isoformat(), until=last.isoformat()),
                )
            )
        return rows

    @cached_property
    def needs_met_by_matches(self) -> int:
        """Needs met through matches: matches settled 已落实 over the last MONTHS."""
        return self._match_counts[1]

    # -- Per area -----------------------------------------------------------------------

    @cached_property
    def completeness(self) -> list[Row]:
        """Each community's share of complete records, the least complete first; shown where
        the breakdown is coarser than communities (a district's streets)."""
        if not self.breakdown or self.breakdown[0].level == Area.Level.COMMUNITY:
            return []
        names = {area.pk: area.name for area in self.areas}
        parents = {area.pk: area.parent_id for area in self.areas}
        rows = []
        for area in self.areas:
            if area.level != Area.Level.COMMUNITY:
                continue
            counts = self.per_community.get(area.pk, {})
            total, incomplete = counts.get(D.TOTAL, 0), counts.get(D.INCOMPLETE, 0)
            if not total:
                continue
            rows.append(
                Row(
                    f"{names.get(parents[area.pk], '')} {area.name}".strip(),
                    incomplete,
                    link("members:list", area=area.code, incomplete="true"),
                    {"total": total, "complete_share": share(total - incomplete, total)},
                )
            )
        return sorted(rows, key=lambda row: (row.extra["complete_share"], row.label))

    @cached_property
    def by_area(self) -> list[Row]:
        """One row per street or community: members, completeness, contact, activities, needs."""
        if not self.breakdown:
            return []
        area_of = {area.pk: area for area in self.areas}
        numbers: dict[int, dict[str, int]] = {area.pk: defaultdict(int) for area in self.breakdown}
        for community, counts in self.per_community.items():
            area = self._breakdown_of(area_of[community])
            if area is not None:
                for key, n in counts.items():
                    numbers[area.pk][key] += n
        for community, counts in self._need_counts.items():
            area = self._breakdown_of(area_of.get(community))
            if area is not None:
                for key, n in counts.items():
                    numbers[area.pk][f"needs_{key}"] += n
        for area_id, _month, _type, n, _served in self._activity_counts:
            area = self._breakdown_of(area_of.get(area_id))
            if area is not None:
                numbers[area.pk]["activities"] += n
        for community, n in self._visit_counts.items():
            area = self._breakdown_of(area_of.get(community))
            if area is not None:
                numbers[area.pk]["visits"] += n
        rows = []
        for area in self.breakdown:
            counts = numbers[area.pk]
            total = counts["total"]
            rows.append(
                Row(
                    area.name,
                    total,
                    link("members:list", area=area.code),
                    {
                        "code": area.code,
                        "representatives": counts["representative"],
                        "representatives_url": link(
                            "members:list", area=area.code, is_representative="true"
                        ),
                        "incomplete": counts["incomplete"],
                        "incomplete_url": link("members:list", area=area.code, incomplete="true"),
                        "complete_share": share(total - counts["incomplete"], total),
                        "not_informed": counts["not_informed"],
                        "not_informed_url": link(
                            "members:list", area=area.code, not_informed="true"
                        ),
                        "not_contacted": counts["not_contacted"],
                        "not_contacted_url": link(
                            "activities:not_contacted",
                            months=NOT_CONTACTED_MONTHS,
                            area=area.code,
                        ),
                        "activities": counts["activities"],
                        "activities_url": link(
                            "activities:list",
                            area=area.code,
                            start=self.period_start.isoformat(),
                            end=self.period_end.isoformat(),
                        ),
                        "needs_open": counts["needs_open"],
                        "needs_open_url": link("activities:need_list", show="open", area=area.code),
                        "visits": counts["visits"],
                        "needs_resolved": counts["needs_resolved"],
                    },
                )
            )
        return rows
