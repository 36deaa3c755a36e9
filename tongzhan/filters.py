"""The audit log's search: by user, action, outcome, object and time."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .dates import local_days, local_midnight
from .models import AuditEvent
from .widgets import CompactSelect, DateInput


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
    since = django_filters.DateFilter(label=_("From"), method="filter_since", widget=DateInput)
    until = django_filters.DateFilter(label=_("To"), method="filter_until", widget=DateInput)

    class Meta:
        model = AuditEvent
        fields = []

    def filter_object(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(object_type__iexact=value) | Q(object_id=value) | Q(object_repr__icontains=value)
        )

    def filter_since(self, queryset, name, value):
        return queryset.filter(at__gte=local_midnight(value))

    def filter_until(self, queryset, name, value):
        return queryset.filter(at__lt=local_days(value, value)[1])
