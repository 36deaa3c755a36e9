from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities.forms import PhotosField
from tongzhan.filters import FilterForm
from tongzhan.widgets import CompactSelect, DateInput

from .models import Rectification
from .services import model_activity_choices


class NoticeForm(forms.Form):
    """The district's rectification notice: what is to be rectified, and by when."""

    notice = forms.CharField(
        label=_("Rectification notice"), widget=forms.Textarea(attrs={"rows": 5})
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput())


class ReportForm(forms.Form):
    """The community's report: what was rectified, with its evidence."""

    report = forms.CharField(
        label=_("What was rectified"), widget=forms.Textarea(attrs={"rows": 6})
    )
    files = PhotosField(
        label=_("Evidence: photos or PDF documents (up to 10 MB each)"),
        required=False,
        help_text=_("At least one, unless the report sent back already has some."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class ModelCommunityForm(forms.Form):
    """A 示范社区's reward and its experience-sharing activity."""

    reward = forms.DecimalField(
        label=_("Reward (yuan)"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    activity = forms.ModelChoiceField(
        label=_("Experience-sharing activity"),
        queryset=None,
        required=False,
        widget=CompactSelect,
        help_text=_("One of the community's own activities."),
    )

    def __init__(self, *args, user, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["activity"].queryset = model_activity_choices(user, community)
        self.fields["activity"].label_from_instance = lambda activity: (
            f"{timezone.localtime(activity.starts_at):%Y-%m-%d} {activity.title}"
        )


class TableFilterForm(FilterForm):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("All")),
            *Rectification.State.choices,
            ("overdue", _("Overdue")),
        ],
        widget=CompactSelect,
    )
