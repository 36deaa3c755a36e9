from django import forms
from django.utils.translation import gettext_lazy as _

from tongzhan.filters import FilterForm
from tongzhan.models import Area
from tongzhan.widgets import CompactSelect


class DueFilterForm(FilterForm):
    """The list of records due: one community of the user's area, or all."""

    community = forms.ModelChoiceField(
        label=_("Community"),
        queryset=Area.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("All"),
        widget=CompactSelect,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        field.queryset = Area.objects.visible_to(user).communities().select_related("parent")
        field.label_from_instance = lambda area: f"{area.parent.name} · {area.name}"
