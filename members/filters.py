"""The member list's filters. Every choice offered lies within the user's scope."""

import datetime
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tongzhan import documents
from tongzhan.crypto import lookup_hashes
from tongzhan.filters import FIRST_DAY, LAST_DAY, MAX_ID, FilterForm, IntegerFilter, YearFilter
from tongzhan.masking import mask_id_number, mask_name, mask_phone
from tongzhan.models import Area
from tongzhan.widgets import CompactSelect

from .models import (
    Category,
    DutyRecord,
    Ethnicity,
    ImportJob,
    ImportRow,
    Member,
    PoliticalArrangement,
    PoliticalStatus,
)


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


MAX_AGE = 150
MONTHS = (f"{FIRST_DAY:%Y-%m}", f"{LAST_DAY:%Y-%m}")


def validate_month(value: str) -> None:
    if month_range(value) is None:
        raise ValidationError(
            _("Enter a month as %(example)s, from %(first)s to %(last)s."),
            code="invalid",
            params={"example": "2026-03", "first": MONTHS[0], "last": MONTHS[1]},
        )


class MemberFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_q",
        widget=forms.TextInput(
            attrs={"placeholder": _("Name, full ID number, phone or last 4 digits")}
        ),
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.all(),
        method="filter_category",
        to_field_name="code",
        empty_label=_("All"),
        widget=CompactSelect,
    )
    area = django_filters.ModelChoiceFilter(
        label=_("Area"),
        queryset=Area.objects.none(),
        method="filter_area",
        to_field_name="code",
        empty_label=_("All"),
        widget=CompactSelect,
    )
    political_status = django_filters.ModelChoiceFilter(
        label=_("Political status"),
        queryset=PoliticalStatus.objects.all(),
        to_field_name="code",
        empty_label=_("All"),
        widget=CompactSelect,
    )
    ethnicity = django_filters.ModelChoiceFilter(
        label=_("Ethnic group"),
        queryset=Ethnicity.objects.all(),
        to_field_name="code",
        empty_label=_("All"),
        widget=CompactSelect,
    )
    sex = django_filters.ChoiceFilter(
        label=_("Sex"), choices=Member.Sex.choices, empty_label=_("All"), widget=CompactSelect
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=Member.Status.choices,
        empty_label=_("All statuses"),
        initial=Member.Status.ACTIVE,  # the list's default (member_filterset)
        widget=CompactSelect,
    )
    is_representative = django_filters.BooleanFilter(
        label=_("Representative figure"),
        widget=CompactSelect(choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))]),
    )
    # The representative's file: members holding a political arrangement of this body, at
    # this level, in this state, all three of one arrangement (区政协委员 in office); and
    # members with a duty record of a kind. Applied together in `filter_queryset`.
    arrangement_body = django_filters.ChoiceFilter(
        label=_("Political arrangement"),
        choices=PoliticalArrangement.Body.choices,
        empty_label=_("All"),
        method="filter_nothing",
        widget=CompactSelect,
    )
    arrangement_level = django_filters.ChoiceFilter(
        label=_("Arrangement level"),
        choices=PoliticalArrangement.Level.choices,
        empty_label=_("All"),
        method="filter_nothing",
        widget=CompactSelect,
    )
    arrangement_state = django_filters.ChoiceFilter(
        label=_("Arrangement state"),
        choices=PoliticalArrangement.State.choices,
        empty_label=_("All"),
        method="filter_nothing",
        widget=CompactSelect,
    )
    duty_kind = django_filters.ChoiceFilter(
        label=_("Duty record"),
        choices=DutyRecord.Kind.choices,
        empty_label=_("All"),
        method="filter_duty",
        widget=CompactSelect,
    )
    age_min = IntegerFilter(
        label=_("Age from"), method="filter_age_min", min_value=0, max_value=MAX_AGE
    )
    age_max = IntegerFilter(
        label=_("Age to"), method="filter_age_max", min_value=0, max_value=MAX_AGE
    )
    # The dashboards' age bands count by year of birth (年龄 = 统计年度 − 出生年份).
    born_from = YearFilter(
        label=_("Born from (year)"), field_name="birth_date", lookup_expr="year__gte"
    )
    born_to = YearFilter(
        label=_("Born to (year)"), field_name="birth_date", lookup_expr="year__lte"
    )
    registered = django_filters.CharFilter(
        label=_("Registered in (month)"),
        method="filter_registered",
        validators=[validate_month],
        widget=forms.TextInput(attrs={"type": "month", "min": MONTHS[0], "max": MONTHS[1]}),
    )
    left = django_filters.CharFilter(
        label=_("Left in (month)"),
        method="filter_left",
        validators=[validate_month],
        widget=forms.TextInput(attrs={"type": "month", "min": MONTHS[0], "max": MONTHS[1]}),
    )
    incomplete = django_filters.BooleanFilter(
        label=_("Record complete"),
        method="filter_incomplete",
        widget=CompactSelect(
            choices=[("", _("All")), ("false", _("Complete")), ("true", _("Missing fields"))]
        ),
    )
    # 告知 (PIPL arts. 17, 35): the dashboards count who has not been told and link here.
    not_informed = django_filters.BooleanFilter(
        label=pgettext_lazy("informing", "Notice"),
        method="filter_not_informed",
        widget=CompactSelect(
            choices=[("", _("All")), ("true", _("Not yet told")), ("false", _("Told"))]
        ),
    )

    class Meta:
        model = Member
        fields = []
        form = FilterForm

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        areas = Area.objects.visible_to(user).exclude(level=Area.Level.GRID)
        self.filters["area"].queryset = areas
        self.form.fields["area"].label_from_instance = _area_label

    ARRANGEMENT_FILTERS = {
        "arrangement_body": "body",
        "arrangement_level": "level",
        "arrangement_state": "state",
    }

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        held = {
            field: self.form.cleaned_data.get(name)
            for name, field in self.ARRANGEMENT_FILTERS.items()
            if self.form.cleaned_data.get(name)
        }
        if not held:
            return queryset
        # One arrangement with all of them: a 区人大代表 who is also a 市政协委员 is no 区政协委员.
        arrangements = PoliticalArrangement.objects.filter(member=OuterRef("pk"), **held)
        return queryset.filter(Exists(arrangements))

    def filter_nothing(self, queryset, name, value):
        return queryset  # applied with its siblings in `filter_queryset`

    def filter_duty(self, queryset, name, value):
        return queryset.filter(Exists(DutyRecord.objects.filter(member=OuterRef("pk"), kind=value)))

    def filter_q(self, queryset, name, value):
        kind, text = search_kind(value)
        if kind == "id_number":
            # Every document the number can be (an 18-digit one is usually an ID card).
            hashes = [h for key in documents.search_keys(text) for h in lookup_hashes(key)]
            return queryset.filter(id_number_hash__in=hashes)
        if kind == "document":
            # A permit or passport number, or a Latin name with digits: either may match.
            hashes = [h for key in documents.search_keys(text) for h in lookup_hashes(key)]
            return queryset.filter(Q(id_number_hash__in=hashes) | Q(name__contains=value.strip()))
        if kind == "phone":
            return queryset.filter(phone_hash__in=lookup_hashes(text))
        if kind == "last_four":
            return queryset.filter(
                Q(id_number_masked__endswith=text) | Q(phone_masked__endswith=text)
            )
        if kind == "name":
            return queryset.filter(name__contains=text)
        return queryset

    def filter_category(self, queryset, name, value):
        through = Member.categories.through.objects.filter(category=value)
        return queryset.filter(pk__in=through.values("member_id"))

    def filter_area(self, queryset, name, value):
        ids = Area.objects.within(value).values_list("pk", flat=True)
        return queryset.filter(community_id__in=list(ids))

    def filter_registered(self, queryset, name, value):
        month = month_range(value)
        if month is None:  # not a month: matches nothing rather than everything
            return queryset.none()
        return queryset.filter(created_at__gte=month[0], created_at__lt=month[1])

    def filter_left(self, queryset, name, value):
        month = month_range(value)
        if month is None:
            return queryset.none()
        return queryset.exclude(status=Member.Status.ACTIVE).filter(
            status_date__gte=month[0].date(), status_date__lt=month[1].date()
        )

    def filter_import(self, queryset, name, value):
        """The members an import the user may see registered or changed (its result page
        links here); an import out of the user's scope matches nobody."""
        jobs = ImportJob.objects.visible_to(self.user).filter(pk=value)
        written = ImportRow.objects.filter(
            job__in=jobs, kind__in=[ImportRow.Kind.CREATED, ImportRow.Kind.UPDATED]
        ).exclude(member=None)
        return queryset.filter(pk__in=written.values("member_id"))

    def filter_incomplete(self, queryset, name, value):
        return queryset.filter(incomplete=value)

    def filter_not_informed(self, queryset, name, value):
        not_told = Q(informed_how="")
        return queryset.filter(not_told) if value else queryset.exclude(not_told)

    def filter_age_min(self, queryset, name, value):
        latest_birth = _years_before(timezone.localdate(), int(value))
        return queryset.filter(birth_date__lte=latest_birth)

    def filter_age_max(self, queryset, name, value):
        earliest_birth = _years_before(timezone.localdate(), int(value) + 1)
        return queryset.filter(birth_date__gt=earliest_birth)


# "import" is a keyword, so the filter cannot be a class attribute of that name.
MemberFilterSet.base_filters["import"] = IntegerFilter(
    label=_("Import number"), method="filter_import", min_value=1, max_value=MAX_ID
)


def tallied_count(filterset: MemberFilterSet, user) -> int | None:
    """The list's count from the dashboards' tallies, when its filters are ones they keep.

    Registered members of the user's scope, optionally within an area, with at most one of
    category, political status, ethnic group, sex, representative or incomplete: the count
    is a sum of a few tally rows instead of a COUNT over up to a million members. None when
    the filters ask for anything else (a search, ages, months, another status).
    """
    from django.db.models import Sum

    from tongzhan.scoping import visible_area_ids

    from .models import MemberTally

    if not filterset.is_valid():
        return None
    data = dict(filterset.form.cleaned_data)
    if data.pop("status", None) != Member.Status.ACTIVE:
        return None
    area = data.pop("area", None)
    D = MemberTally.Dimension
    tallied = {
        "category": lambda value: (D.CATEGORY, str(value.pk)),
        "political_status": lambda value: (D.POLITICAL_STATUS, str(value.pk)),
        "ethnicity": lambda value: (D.ETHNICITY, str(value.pk)),
        "sex": lambda value: (D.SEX, value),
        "is_representative": lambda value: (D.REPRESENTATIVE, "") if value else None,
        "incomplete": lambda value: (D.INCOMPLETE, "") if value else None,
        "not_informed": lambda value: (D.NOT_INFORMED, "") if value else None,
    }
    given = {name: value for name, value in data.items() if value not in (None, "", [])}
    if any(name not in tallied for name in given) or len(given) > 1:
        return None
    key = (D.TOTAL, "")
    for name, value in given.items():
        key = tallied[name](value)
        if key is None:
            return None
    communities = Area.objects.communities()
    ids = visible_area_ids(user)
    if ids is not None:
        communities = communities.filter(pk__in=ids)
    if area is not None:
        communities = communities.within(area)
    total = MemberTally.objects.filter(
        community__in=communities, dimension=key[0], value=key[1]
    ).aggregate(n=Sum("count"))["n"]
    return total or 0


def month_range(value: str) -> tuple[datetime.datetime, datetime.datetime] | None:
    """The first moment of a month "2026-03" and of the next, in local time; None if the
    value is not a month from 1900 to 2100."""
    try:
        year, month = (int(part) for part in value.split("-"))
        start = datetime.datetime(year, month, 1)
    except ValueError:
        return None
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        return None
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    return timezone.make_aware(start), timezone.make_aware(end)


def search_kind(value: str) -> tuple[str, str]:
    """What a search box entry is: ("id_number" | "document" | "phone" | "last_four" | "name"
    | "", text); "document" is the number of a document other than the 18-character ones."""
    text = documents.normalize(value)
    if not text:
        return "", ""
    if re.fullmatch(r"[0-9]{17}[0-9X]", text):
        return "id_number", text
    phone = text.replace("-", "")
    if re.fullmatch(r"1[0-9]{10}|0[0-9]{9,11}", phone):
        return "phone", phone
    if re.fullmatch(r"[0-9]{4}|[0-9]{3}X", text):
        return "last_four", text
    if re.fullmatch(r"[A-Z0-9]{5,20}", text) and re.search(r"[0-9]", text):
        return "document", text
    return "name", str(value).strip()


def _area_label(area: Area) -> str:
    indent = {"district": "", "street": "　", "community": "　　"}.get(area.level, "")
    return f"{indent}{area.name}"


def list_filterset(data, queryset, user) -> MemberFilterSet:
    """The member list's filters from the query `data`, as the list, its export and the
    export made in the background apply them."""
    data = data.copy()
    # The registry lists registered members unless the user asks for another status, or for
    # the members who left in a month (none of whom is registered any more).
    if not data.get("left"):
        data.setdefault("status", Member.Status.ACTIVE)
    return MemberFilterSet(data, queryset=queryset, user=user)


def masked_filters(query) -> dict:
    """The list's filters for the audit log, a searched ID number, phone or name masked (the
    log outlives her record, and names her masked)."""
    filters = {key: values[0] if len(values) == 1 else values for key, values in query.lists()}
    if "q" in filters:
        # Every value: a query may repeat the box, and the list searches by the last one only.
        masked = [_masked_search(value) for value in query.getlist("q")]
        filters["q"] = masked[0] if len(masked) == 1 else masked
    return filters


def _masked_search(entry: str) -> str:
    kind, value = search_kind(entry)
    if kind in ("id_number", "document"):
        return mask_id_number(value)
    if kind == "phone":
        return mask_phone(value)
    if kind == "name":
        return mask_name(value)
    return entry
