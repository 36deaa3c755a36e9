"""The filters of the activity, need and not-contacted lists. Every choice offered lies within
the user's scope."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import Member
from tongzhan.filters import MAX_ID, DateFilter, DayField, FilterForm, IntegerFilter
from tongzhan.models import Area
from tongzhan.scoping import within_area
from tongzhan.widgets import CompactSelect

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
    start = DateFilter(label=_("From"), field_name="starts_at", lookup_expr="date__gte")
    end = DateFilter(label=_("To"), field_name="starts_at", lookup_expr="date__lte")
    # Only members the user may see: another area's member gives an empty list instead of
    # telling whose activities those are.
    member = IntegerFilter(
        label=_("Member"),
        method="filter_member",
        min_value=1,
        max_value=MAX_ID,
        widget=forms.HiddenInput,
    )

    class Meta:
        model = Activity
        fields = ["q", "type", "area", "start", "end", "member"]
        form = FilterForm

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["area"].queryset = (
            Area.objects.visible_to(user).exclude(level=Area.Level.GRID).order_by("code")
        )
        self.members = Member.objects.visible_to(user)

    def filter_area(self, queryset, name, value):
        # An area and everything below it.
        return queryset.filter(within_area(value, "area"))

    def filter_member(self, queryset, name, value):
        if not self.members.filter(pk=value).exists():
            return queryset.none()
        return queryset.filter(participants=value)


class NeedFilterForm(FilterForm):
    """The need lists' filters: an area of the user's, and the period whose resolved needs
    (解决实事) are counted. Which list (`show`) is kept by the page's own links."""

    show = forms.CharField(label=_("Which needs"), required=False, widget=forms.HiddenInput)
    area = forms.ModelChoiceField(
        label=_("Area"),
        queryset=Area.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("All"),
        widget=CompactSelect,
    )
    since = DayField(label=_("Resolved from"), required=False)
    until = DayField(label=_("Resolved until"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = (
            Area.objects.visible_to(user).exclude(level=Area.Level.GRID).order_by("code")
        )


class NotContactedForm(FilterForm):
    """How many months without a visit or activity, within an area of the user's (given by
    the dashboards' links, kept as it is)."""

    months = forms.IntegerField(
        label=_("No visit or activity for (months)"),
        min_value=1,
        max_value=120,
        initial=12,  # the page's default
        required=False,
    )
    area = forms.ModelChoiceField(
        label=_("Area"),
        queryset=Area.objects.none(),
        to_field_name="code",
        required=False,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.visible_to(user)
