from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongzhan.filters import FilterForm
from tongzhan.models import Area
from tongzhan.widgets import CompactSelect, DateInput

from .models import PersonRequest


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


class PersonRequestForm(forms.ModelForm):
    """Recording a person's request; the deadline is counted from the day received."""

    class Meta:
        model = PersonRequest
        fields = ["kind", "received_on", "channel", "asked_by", "agent_name", "agent_relation",
                  "asks"]  # fmt: skip
        widgets = {
            "received_on": DateInput,
            "kind": forms.RadioSelect,
            "asked_by": forms.RadioSelect,
            "asks": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "agent_name": _("Only when an agent asked for her."),
            "asks": _("What she asks to see, to copy or to correct, in her words."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate()
        self.fields["kind"].choices = PersonRequest.Kind.choices  # no empty choice among the radios


class RequestAnswerForm(forms.Form):
    """The answer given to a request (for a refusal, its reasons) and the day it was given."""

    answer = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 4}),
                             required=False)  # fmt: skip
    answered_on = forms.DateField(label=_("Answered on"), widget=DateInput)

    def __init__(self, *args, refusal: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["answered_on"].initial = timezone.localdate()
        if refusal:
            self.fields["answer"].label = _("Reasons for the refusal")
            self.fields["answer"].required = True


class RequestFilterForm(FilterForm):
    """The requests list: by state, overdue ones apart."""

    class Show(models.TextChoices):
        OPEN = "open", _("Waiting to be handled")
        OVERDUE = "overdue", _("Overdue")
        ANSWERED = "answered", _("Answered")
        REFUSED = "refused", _("Refused with reasons")

    state = forms.ChoiceField(
        label=_("State"), choices=[("", _("All")), *Show.choices], required=False,
        widget=CompactSelect,
    )  # fmt: skip
