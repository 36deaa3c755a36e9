"""The activity form: choices limited to the user's scope, participants picked by name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import Member
from tongzhan.models import Area

from .models import Activity, ActivityType


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ParticipantsWidget(forms.SelectMultiple):
    """The chosen members as a list with a search box (static/js/participants.js).

    Only the chosen members are rendered as options, so a street's thousands of members are
    never sent to the phone; the script adds more from the search endpoint.
    """

    template_name = "activities/widgets/participants.html"

    def __init__(self, search_url: str = "", **kwargs):
        super().__init__(**kwargs)
        self.search_url = search_url

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["search_url"] = self.search_url
        return context

    def optgroups(self, name, value, attrs=None):
        chosen = {str(item) for item in value}
        self.choices = [
            (member_id, label) for member_id, label in self.choices if str(member_id) in chosen
        ]
        return super().optgroups(name, value, attrs)


class ActivityForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = [
            "type",
            "title",
            "starts_at",
            "ends_at",
            "place",
            "area",
            "organiser",
            "participants",
            "other_attendees",
            "people_served",
            "funds",
            "funds_source",
            "summary",
        ]
        widgets = {
            "starts_at": DateTimeInput(),
            "ends_at": DateTimeInput(),
            "summary": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, user, search_url="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].queryset = ActivityType.objects.filter(is_active=True)
        area = self.fields["area"]
        area.queryset = (
            Area.objects.visible_to(user).exclude(level=Area.Level.GRID).order_by("code")
        )
        area.label_from_instance = lambda item: item.name
        if user.area_id and not self.instance.pk:
            area.initial = user.area_id
        participants = self.fields["participants"]
        participants.queryset = Member.objects.visible_to(user).select_related("community")
        participants.label_from_instance = lambda member: (
            f"{member.name}（{member.community.name}）"
        )
        participants.widget = ParticipantsWidget(search_url=search_url)
        participants.widget.choices = participants.choices
        participants.help_text = _("Search by name; only members of your area are found.")

    def service_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "participants"}
