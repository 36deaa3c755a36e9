"""The activity form: choices limited to the user's scope, participants picked by name."""

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members.models import Category, Member
from organisations.models import Organisation, Place
from tongzhan.models import Area
from tongzhan.widgets import DateInput, DateTimeInput

from .models import Activity, ActivityType, Need, Visit


class ParticipantsWidget(forms.SelectMultiple):
    """The chosen members as a list with a search box (static/js/participants.js).

    Only the chosen members are rendered as options, so a street's thousands of members are
    never sent to the phone; the script adds more from the search endpoint.
    """

    template_name = "activities/widgets/participants.html"

    def __init__(
        self, search_url: str = "", community_field: str = "", placeholder: str = "", **kwargs
    ):
        super().__init__(**kwargs)
        self.search_url = search_url
        # What the search box asks for (the template's words for participants when empty).
        self.placeholder = placeholder
        # The form field whose community the search keeps to, if any.
        self.community_field = community_field

    # What the bulk choices offer (set by forms that have them; querysets, read on rendering).
    bulk_url = ""
    bulk_choices: dict = {}

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["search_url"] = self.search_url
        context["widget"]["bulk_url"] = self.bulk_url
        context["widget"]["bulk"] = self.bulk_choices
        context["widget"]["community_field"] = self.community_field
        context["widget"]["placeholder"] = self.placeholder
        return context

    def optgroups(self, name, value, attrs=None):
        chosen = {str(item) for item in value}
        self.choices = [
            (member_id, label) for member_id, label in self.choices if str(member_id) in chosen
        ]
        return super().optgroups(name, value, attrs)


# The most earlier activities the bulk choice offers, latest first.
BULK_ACTIVITIES = 50


def bulk_choices(user) -> dict:
    """The groups whose members the activity picker adds at once: the 13 categories, the
    grids of the user's communities, the user's latest activities (lazy querysets)."""
    return {
        "categories": Category.objects.order_by("code"),
        "grids": Area.objects.visible_to(user)
        .filter(level=Area.Level.GRID)
        .select_related("parent")
        .order_by("code"),
        "activities": Activity.objects.visible_to(user)
        .only("id", "title", "starts_at")
        .order_by("-starts_at", "-id")[:BULK_ACTIVITIES],
    }


def participant_label(member: Member) -> str:
    """A member as the pickers show them: name, age, last four of the ID number, community.

    The last four come from the masked number: the full number is never read for a picker.
    """
    parts = [member.name]
    if member.age is not None:
        parts.append(gettext("%(age)s years old") % {"age": member.age})
    if last_four := id_last_four(member):
        parts.append(gettext("ID ends %(digits)s") % {"digits": last_four})
    parts.append(member.community.name)
    return " · ".join(parts)


def area_label(item) -> str:
    """A place or organisation with its area, as two of one name may be in two areas."""
    return f"{item.name}（{item.area.name}）"


def id_last_four(member: Member) -> str:
    last_four = member.id_number_masked[-4:]
    return "" if "*" in last_four else last_four


class PhotosInput(forms.FileInput):
    """Several photos or PDFs at once; a phone offers its camera (`capture`), a desktop
    browser ignores `capture` and opens its file chooser."""

    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """The uploaded files as a list; whether each is a photo or PDF is the service's check."""

    widget = PhotosInput(attrs={"accept": "image/*,application/pdf", "capture": "environment"})

    def clean(self, data, initial=None):
        clean_one = super().clean
        files = data if isinstance(data, (list, tuple)) else [data]
        return [clean_one(item, initial) for item in files if item]


class ActivityForm(forms.ModelForm):
    files = PhotosField(
        label=_("Add photos or PDF documents (up to 10 MB each)"),
        required=False,
        help_text=_("On a phone, take the photos there and then; several may be chosen at once."),
    )

    class Meta:
        model = Activity
        fields = [
            "type",
            "title",
            "starts_at",
            "ends_at",
            "venue",
            "place",
            "area",
            "organiser",
            "partners",
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
            # Filtered by name on the page (static/js/checklist-filter.js), scrolled in a box.
            "partners": forms.CheckboxSelectMultiple(attrs={"class": "checklist-box"}),
        }
        labels = {"place": _("Other place")}
        help_texts = {"place": _("When the place is not in the list above.")}

    def __init__(self, *args, user, search_url="", bulk_url="", **kwargs):
        super().__init__(*args, **kwargs)
        # A type out of use (停用) is not offered, but an activity recorded with it keeps it.
        self.fields["type"].queryset = ActivityType.objects.filter(
            Q(is_active=True) | Q(pk=self.instance.type_id or 0)
        )
        area = self.fields["area"]
        area.queryset = (
            Area.objects.visible_to(user).exclude(level=Area.Level.GRID).order_by("code")
        )
        area.label_from_instance = lambda item: item.name
        if user.area_id and not self.instance.pk:
            area.initial = user.area_id
        # The user's places and organisations in use; those the activity already has stay
        # offered (the service keeps them too).
        venue = self.fields["venue"]
        venue.queryset = (
            Place.objects.filter(
                Q(pk__in=Place.objects.visible_to(user).filter(is_active=True).values("pk"))
                | Q(pk=self.instance.venue_id or 0)
            )
            .select_related("area")
            .order_by("area__code", "name", "id")
        )
        venue.label_from_instance = area_label
        venue.empty_label = _("None of these (write the place below)")
        partners = self.fields["partners"]
        had = list(self.instance.partners.values_list("pk", flat=True)) if self.instance.pk else []
        partners.queryset = (
            Organisation.objects.visible_to(user)
            .filter(Q(is_active=True) | Q(pk__in=had))
            .select_related("area")
            .order_by("area__code", "name", "id")
        )
        partners.label_from_instance = area_label
        partners.help_text = _("The organisations of your area that held it with you.")
        participants = self.fields["participants"]
        participants.queryset = Member.objects.visible_to(user).select_related("community")
        participants.label_from_instance = participant_label
        participants.widget = ParticipantsWidget(search_url=search_url)
        if bulk_url:
            participants.widget.bulk_url = bulk_url
            participants.widget.bulk_choices = bulk_choices(user)
        participants.widget.choices = participants.choices
        participants.help_text = _("Search by name; only members of your area are found.")

    def service_data(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("participants", "partners", "files")
        }


class VisitForm(forms.ModelForm):
    """A visit, and optionally the need it raised (the common case on a phone, in one go)."""

    need_kind = forms.ChoiceField(
        label=_("Need raised"),
        choices=[("", _("None"))] + list(Need.Kind.choices),
        required=False,
    )
    need_description = forms.CharField(
        label=_("What the member needs"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    class Meta:
        model = Visit
        fields = ["community", "members", "date", "way", "staff", "situation", "opinions"]
        widgets = {
            "date": DateInput(),
            "situation": forms.Textarea(attrs={"rows": 4}),
            "opinions": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, search_url="", **kwargs):
        super().__init__(*args, **kwargs)
        community = self.fields["community"]
        community.queryset = Area.objects.current().communities().visible_to(user).order_by("code")
        community.label_from_instance = lambda item: item.name
        if user.area_id and user.area.level == Area.Level.COMMUNITY and not self.instance.pk:
            community.initial = user.area_id
        members = self.fields["members"]
        members.label = _("Members visited")
        members.queryset = Member.objects.visible_to(user).select_related("community")
        members.label_from_instance = participant_label
        members.widget = ParticipantsWidget(
            search_url=search_url,
            community_field="community",
            placeholder=_("Type a name to add a member visited"),
        )
        members.widget.choices = members.choices
        today = timezone.localdate()
        # The phone's date picker offers no later day; the service refuses one anyway.
        self.fields["date"].widget.attrs["max"] = today.isoformat()
        if self.instance.pk:
            del self.fields["need_kind"], self.fields["need_description"]
        else:
            # Most visits are recorded the day they are made, by the worker who made them.
            self.fields["date"].initial = today
            self.fields["staff"].initial = user.get_full_name() or user.username

    def clean(self):
        data = super().clean()
        if data.get("need_kind") and not data.get("need_description", "").strip():
            self.add_error("need_description", _("Say what the member needs."))
        if data.get("need_kind") and len(data.get("members") or []) != 1:
            self.add_error(
                "need_kind", _("A need is raised by one member: record it from their visit alone.")
            )
        return data

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields if name != "members"}


class NeedForm(forms.ModelForm):
    class Meta:
        model = Need
        fields = ["kind", "description", "raised_on", "handler", "due_date"]
        widgets = {
            "raised_on": DateInput(),
            "due_date": DateInput(),
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate().isoformat()
        self.fields["raised_on"].widget.attrs["max"] = today
        if self.instance.visit_id:
            # Raised on a visit: on the visit's day, which the visit's page corrects.
            self.fields["raised_on"].disabled = True
            self.fields["raised_on"].help_text = _("The day of the visit it was raised on.")
        if not self.instance.pk:
            self.fields["handler"].help_text = _("Left empty: you.")
            self.fields["due_date"].help_text = _(
                "Left empty: %(days)s days after it was raised."
            ) % {"days": settings.NEED_DUE_DAYS}


class NeedStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"))
    resolution = forms.CharField(
        label=_("How it was handled"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Kept in the need's history with the change."),
    )
    closed_on = forms.DateField(
        label=_("Closed on"),
        widget=DateInput(),
        required=False,
        help_text=_("Only when it is closed."),
    )
    satisfaction = forms.ChoiceField(
        label=_("Member's satisfaction"),
        choices=[("", "—")] + list(Need.Satisfaction.choices),
        required=False,
    )

    def __init__(self, *args, need: Need, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (status, Need.Status(status).label) for status in Need.NEXT[need.status]
        ]
        today = timezone.localdate()
        self.fields["closed_on"].initial = today
        self.fields["closed_on"].widget.attrs.update(
            min=need.raised_on.isoformat(), max=today.isoformat()
        )


class NeedReferForm(forms.Form):
    """Refer a need up (上报): to an area above the one holding it, with the reason."""

    to_area = forms.ModelChoiceField(label=_("Refer to"), queryset=Area.objects.none())
    note = forms.CharField(
        label=_("Why it cannot be solved here"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the need is referred up.")},
    )

    def __init__(self, *args, holder: Area, **kwargs):
        super().__init__(*args, **kwargs)
        above, area = [], holder
        while area.parent_id is not None:
            above.append(area.parent_id)
            area = area.parent
        areas = Area.objects.current().filter(pk__in=above).order_by("-code")
        self.fields["to_area"].queryset = areas
        self.fields["to_area"].initial = holder.parent_id


class NeedReturnForm(forms.Form):
    """Return a referred need (退回) with the reason."""

    reason = forms.CharField(
        label=_("Why it is returned"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the need is returned.")},
    )


class ActivityTypeForm(forms.ModelForm):
    """An activity type as administrators keep it; saved by the services."""

    class Meta:
        model = ActivityType
        fields = ["name", "code", "serves_people", "sort_order", "is_active"]
        help_texts = {
            "code": _("Letters, digits, - and _; it does not change once activities use it."),
            "serves_people": _("Its activities count the people served."),
            "sort_order": _("Smaller numbers come first on the activity form."),
            "is_active": _("A type out of use is not offered for new activities."),
        }
