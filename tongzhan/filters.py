"""Filters the lists share (numbers and days within bounds), and the audit log's search."""

import datetime

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .audit import objects_named
from .dates import local_days, local_midnight
from .forms import area_label
from .models import Area, AuditEvent, User, short_code
from .scoping import within_area
from .widgets import CompactSelect, DateInput

# The days and years a filter accepts. Nobody on a roster was born before 1900 and no plan
# reaches past 2100; outside them the arithmetic on dates leaves Python's range (year 1 to
# 9999) and a number the databases' integers (SQLite's and PostgreSQL's) cannot hold.
FIRST_DAY = datetime.date(1900, 1, 1)
LAST_DAY = datetime.date(2100, 12, 31)
DAY_BOUNDS = [MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY)]
MAX_ID = 2**63 - 1  # the largest id a BigAutoField holds


class FilterForm(forms.Form):
    """The form of a list's filters (the FilterSets' `Meta.form`, or a page's own form)."""

    # The search box, which a list may show above its folded filters (includes/filter_form.html).
    search_field = "q"

    @property
    def in_use(self) -> bool:
        """Whether a visible filter has a value of its own or an error: the page then shows
        the filters open. A value the view fills in by default equals the field's initial."""
        return self._in_use(exclude="")

    @property
    def in_use_besides_search(self) -> bool:
        """`in_use` for the filters below a search box shown on its own: a search alone
        leaves them folded, so its results start on the first screen of a phone."""
        return self._in_use(exclude=self.search_field)

    def _in_use(self, *, exclude: str) -> bool:
        if not self.is_bound:
            return False
        changed = set(self.changed_data)
        return any(name != exclude for name in self.errors) or any(
            field.name in changed for field in self.visible_fields() if field.name != exclude
        )


class IntegerFilter(django_filters.NumberFilter):
    """A whole number between `min_value` and `max_value`, which every use must give.

    django-filter's NumberFilter takes decimals up to 1e50; anything out of bounds here is a
    form error (in Chinese, Django's own message) instead of an overflow in the query.
    """

    field_class = forms.IntegerField

    def __init__(self, *args, min_value: int, max_value: int, **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)

    def get_max_validator(self):
        return None  # max_value is the bound


class YearFilter(IntegerFilter):
    """A year from 1900 to 2100."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=FIRST_DAY.year, max_value=LAST_DAY.year, **kwargs)


class DayField(forms.DateField):
    """A day from 1900-01-01 to 2100-12-31, picked with the browser's date picker."""

    default_validators = DAY_BOUNDS
    widget = DateInput(attrs={"min": FIRST_DAY, "max": LAST_DAY})


class DateFilter(django_filters.DateFilter):
    field_class = DayField


def query_id(value) -> int | None:
    """An id given in a query string (ASCII digits, within a bigint), or None."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
        return int(value)
    return None


def query_day(value: str, default: datetime.date) -> datetime.date:
    """A day given in a query string ("2026-03-01"), or `default` if it is none or out of
    bounds: for pages whose period has a default rather than a filter form."""
    try:
        day = datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return default
    return day if FIRST_DAY <= day <= LAST_DAY else default


class AuditEventFilterSet(django_filters.FilterSet):
    username = django_filters.CharFilter(label=_("User"), lookup_expr="iexact")
    action = django_filters.ChoiceFilter(
        label=_("Action"), choices=AuditEvent.Action.choices, empty_label=_("All"),
        widget=CompactSelect,
    )  # fmt: skip
    outcome = django_filters.ChoiceFilter(
        label=pgettext_lazy("of an audited action", "Outcome"),
        choices=AuditEvent.Outcome.choices,
        empty_label=_("All"),
        widget=CompactSelect,
    )
    object = django_filters.CharFilter(
        label=_("Object"),
        method="filter_object",
        widget=forms.TextInput(attrs={"placeholder": _("Type, ID or name")}),
    )
    since = DateFilter(label=_("From"), method="filter_since")
    until = DateFilter(label=_("To"), method="filter_until")

    class Meta:
        model = AuditEvent
        fields = []
        form = FilterForm

    def filter_object(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(object_type__iexact=value)
            | Q(object_id=value)
            | Q(object_repr__icontains=value)
            | objects_named(value)
        )

    def filter_since(self, queryset, name, value):
        return queryset.filter(at__gte=local_midnight(value))

    def filter_until(self, queryset, name, value):
        return queryset.filter(at__lt=local_days(value, value)[1])


class AreaFilterSet(django_filters.FilterSet):
    """The area tree's search (name or code) and level."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_q",
        widget=forms.TextInput(attrs={"placeholder": _("Name or division code")}),
    )
    level = django_filters.ChoiceFilter(
        label=_("Level"), choices=Area.Level.choices, empty_label=_("All"), widget=CompactSelect
    )

    class Meta:
        model = Area
        fields = []
        form = FilterForm

    def filter_q(self, queryset, name, value):
        value = value.strip()
        # A code typed finds that area and those below it, as scoping reads codes; the
        # 12-digit official form (140106001000) as the short one stored (140106001).
        code = short_code(value) if value.isdigit() else value
        return queryset.filter(
            Q(name__icontains=value) | Q(official_name__icontains=value) | within_area(code)
        )


class AccountFilterSet(django_filters.FilterSet):
    """The account list's search and filters; the areas offered are the administrator's."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_q",
        widget=forms.TextInput(attrs={"placeholder": _("User name or name")}),
    )
    role = django_filters.ChoiceFilter(
        label=_("Role"), choices=User.Role.choices, empty_label=_("All"), widget=CompactSelect
    )
    area = django_filters.ModelChoiceFilter(
        label=_("Area"),
        queryset=Area.objects.none(),
        method="filter_area",
        to_field_name="code",
        empty_label=_("All"),
        widget=CompactSelect,
    )
    active = django_filters.BooleanFilter(
        label=_("State"),
        field_name="is_active",
        widget=CompactSelect(
            choices=[("", _("All")), ("true", _("Enabled")), ("false", _("Disabled"))]
        ),
    )

    class Meta:
        model = User
        fields = []
        form = FilterForm

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        areas = Area.objects.visible_to(user).exclude(level=Area.Level.GRID)
        self.filters["area"].queryset = areas
        self.form.fields["area"].label_from_instance = area_label

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # A Chinese name is written family name first without a space (User.get_full_name).
        return queryset.annotate(full_name=Concat("last_name", "first_name")).filter(
            Q(username__icontains=value)
            | Q(full_name__icontains=value)
            | Q(first_name__icontains=value)
        )

    def filter_area(self, queryset, name, value):
        return queryset.filter(within_area(value, "area"))
