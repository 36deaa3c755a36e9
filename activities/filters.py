"""The activity list's filters. Every choice offered lies within the user's scope."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import Member
from tongzhan.models import Area
from tongzhan.scoping import within_area
from tongzhan.widgets import CompactSelect, DateInput

from .models import Activity, ActivityType


class ActivityFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), field_name="title", lookup_expr="icontains")
    type = django_filters.ModelChoiceFilter(
        label=_("Type"),
        queryset=ActivityType.objects.all(),
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
    start = django_filters.DateFilter(
        label=_("From"), field_name="starts_at", lookup_expr="date__gte", widget=DateInput
    )
    end = django_filters.DateFilter(
        label=_("To"), field_name="starts_at", lookup_expr="date__lte", widget=DateInput
    )
    # Only members the user may see: another area's member is not a valid choice, so the
    # list comes back empty instead of telling whose activities those are.
    member = django_filters.ModelChoiceFilter(
        label=_("Member"),
        queryset=Member.objects.none(),
        field_name="participants",
        widget=forms.HiddenInput,
    )

    class Meta:
        model = Activity
        fields = ["q", "type", "area", "start", "end", "member"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["area"].queryset = (
            Area.objects.visible_to(user).exclude(level=Area.Level.GRID).order_by("code")
        )
        self.filters["member"].queryset = Member.objects.visible_to(user).only("pk")

    def filter_area(self, queryset, name, value):
        # An area and everything below it.
        return queryset.filter(within_area(value, "area"))
