"""The forms of resources, community needs and matches, the ledger, and projects (引资引智):
a project, its next step, the list's filters and the table's area and period."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from members.models import Category, Member
from organisations.models import Organisation
from tongzhan.filters import FIRST_DAY, LAST_DAY, MAX_ID, DayField, FilterForm
from tongzhan.masking import name_seen_by
from tongzhan.models import Area
from tongzhan.scoping import enclosing_area_ids, visible_area_ids
from tongzhan.widgets import DateInput

from .models import CommunityNeed, Kind, Match, Project, ProjectStage, Resource
from .services import AREA_LEVELS, MATCHED_FOR, PROJECT_FIELDS


def _members_and_organisations(form, user) -> None:
    """The choices of a resource's owner or a project's introducer: the members the user sees
    (with their community) and the organisations; the one already chosen stays on offer."""
    members = Member.objects.visible_to(user).select_related("community")
    if form.instance.member_id:
        members = members | Member.objects.filter(pk=form.instance.member_id)
    form.fields["member"].queryset = members.defer("id_number", "phone").order_by("name")
    # The member it has may be another area's (moved away, or the street's choice): named
    # as the pages name her.
    form.fields["member"].label_from_instance = lambda m: (
        f"{name_seen_by(user, m.name, m.community_id)}（{m.community.name}）"
    )
    organisations = Organisation.objects.visible_to(user)
    if form.instance.organisation_id:
        organisations = organisations | Organisation.objects.filter(
            pk=form.instance.organisation_id
        )
    form.fields["organisation"].queryset = organisations


class ResourceForm(forms.ModelForm):
    """A resource offered by a member (chosen among those the user sees) or an organisation;
    the areas it serves among the user's own and those above."""

    class Meta:
        model = Resource
        fields = [
            "title", "kind", "service", "member", "organisation", "description", "capacity",
            "valid_until", "served_areas",
        ]  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "valid_until": DateInput(),
            "served_areas": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _members_and_organisations(self, user)
        ids = visible_area_ids(user)
        areas = Area.objects.current().filter(level__in=AREA_LEVELS)
        if ids is not None:
            areas = areas.filter(pk__in=[*ids, *enclosing_area_ids(user)])
        served = self.fields["served_areas"]
        served.queryset = areas.order_by("code")
        served.label_from_instance = lambda area: area.name
        served.help_text = _("Empty: the area of whoever offers it.")

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields[:-1]}


class ResourceFilterForm(forms.Form):
    q = forms.CharField(label=pgettext_lazy("resource", "Title"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("kind"), required=False, choices=[("", _("All")), *Kind.choices]
    )

    @property
    def in_use_besides_search(self) -> bool:
        return bool(self.data.get("kind"))

    def clean_q(self):
        # PostgreSQL refuses a NUL in text; no title holds one.
        return self.cleaned_data["q"].replace("\x00", "").strip()


class TalentSearchForm(FilterForm):
    """The talent search (人才库): words of expertise, professional title or industry, and
    filters by education, category and an organisation the user sees."""

    q = forms.CharField(
        label=_("Expertise, professional title or industry"), required=False, max_length=100
    )
    education = forms.ChoiceField(
        label=_("education"), required=False, choices=[("", _("All")), *Member.Education.choices]
    )
    category = forms.ModelChoiceField(
        label=_("category"), queryset=Category.objects.all(), required=False,
        to_field_name="code", empty_label=_("All"),
    )  # fmt: skip
    organisation = forms.ModelChoiceField(
        label=_("organisation"), queryset=Organisation.objects.none(), required=False,
        empty_label=_("All"),
    )  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("For example: law accountant")
        self.fields["organisation"].queryset = Organisation.objects.visible_to(user).order_by(
            "name"
        )

    def clean_q(self):
        # PostgreSQL refuses a NUL in text; no field holds one.
        return self.cleaned_data["q"].replace("\x00", "").strip()

    @property
    def searched(self) -> bool:
        """Whether there is anything to look for: a word or a filter."""
        return self.is_valid() and any(self.cleaned_data.values())


class CommunityNeedForm(forms.ModelForm):
    class Meta:
        model = CommunityNeed
        fields = ["area", "kind", "service", "description", "quantity", "due_date"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4}), "due_date": DateInput()}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["area"]
        field.queryset = Area.objects.visible_to(user).current().communities().order_by("code")
        field.label_from_instance = lambda area: area.name
        if user.area_id and user.area.level == Area.Level.COMMUNITY:
            field.initial = user.area_id
        if self.instance.pk and self.instance.matches.exists():
            # What its matches were made for stays (services.community_need_update).
            for name in MATCHED_FOR:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Fixed once a resource is matched to the need.")

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class MatchForm(forms.Form):
    """The resource chosen among the suggestions, with a note."""

    resource = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    note = forms.CharField(
        label=_("note"), required=False, max_length=500, widget=forms.TextInput()
    )


class MatchSettleForm(forms.Form):
    state = forms.ChoiceField(
        label=pgettext_lazy("match", "state"),
        choices=[(Match.State.FULFILLED, Match.State.FULFILLED.label),
                 (Match.State.UNFULFILLED, Match.State.UNFULFILLED.label)],
        widget=forms.RadioSelect,
    )  # fmt: skip
    people_served = forms.IntegerField(
        label=_("people served"), min_value=0, max_value=1_000_000, initial=0
    )
    value = forms.DecimalField(
        label=pgettext_lazy("match", "value (yuan)"), required=False, min_value=0,
        max_digits=12, decimal_places=2,
    )  # fmt: skip
    settled_on = forms.DateField(
        label=pgettext_lazy("match", "settled on"), widget=DateInput(),
        initial=datetime.date.today,
    )  # fmt: skip
    note = forms.CharField(label=_("note"), required=False, max_length=500)


class LedgerForm(FilterForm):
    """The ledger's area (a district, street or community of the user's) and period."""

    area = forms.ModelChoiceField(
        label=_("area"), queryset=Area.objects.none(), required=False, to_field_name="code"
    )
    since = DayField(label=_("From"), required=False)
    until = DayField(label=_("To"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["area"]
        field.queryset = (
            Area.objects.visible_to(user).filter(level__in=AREA_LEVELS).order_by("code")
        )
        field.label_from_instance = lambda area: area.name
        field.empty_label = _("All of mine")

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", _("The end of the period is before its start."))
        return data


# -- Projects (引资引智) -----------------------------------------------------------------------


def _areas_of(user):
    """The districts, streets and communities in use of the user's area."""
    return Area.objects.visible_to(user).current().filter(level__in=AREA_LEVELS).order_by("code")


class ProjectForm(forms.ModelForm):
    """A project introduced by a member (among those the user sees) or an organisation, landing
    in one of the user's areas; a new one starts at 意向 on the day given."""

    intent_on = DayField(
        label=pgettext_lazy("project", "Intent reached on"), initial=timezone.localdate
    )

    class Meta:
        model = Project
        fields = list(PROJECT_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["intent_on"]
        _members_and_organisations(self, user)
        areas = _areas_of(user)
        if self.instance.area_id:
            areas = areas | Area.objects.filter(pk=self.instance.area_id)
        field = self.fields["area"]
        field.queryset = areas
        field.label_from_instance = lambda area: area.name
        if not self.instance.pk and user.area_id:
            field.initial = user.area_id

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in PROJECT_FIELDS}


class ProjectAdvanceForm(forms.Form):
    """The project's next stage, or 终止, with the day it was reached."""

    stage = forms.ChoiceField(label=pgettext_lazy("project", "Move to"), choices=())
    date = DayField(label=pgettext_lazy("project", "Reached on"), initial=timezone.localdate)
    note = forms.CharField(label=_("note"), required=False, max_length=500)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        if project.is_open:
            following = project.next_stage()
            choices = [(following, ProjectStage(following).label)]
            choices.append((ProjectStage.DROPPED, ProjectStage.DROPPED.label))
        self.fields["stage"].choices = choices


class _AreaChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class ProjectFilterForm(FilterForm):
    q = forms.CharField(label=pgettext_lazy("project", "Name"), required=False, max_length=100)
    stage = forms.ChoiceField(
        label=pgettext_lazy("project", "stage"), required=False,
        choices=[("", _("All")), *ProjectStage.choices],
    )  # fmt: skip
    area = _AreaChoice(
        label=_("area"), queryset=Area.objects.none(), required=False, to_field_name="code"
    )
    year = forms.IntegerField(
        label=pgettext_lazy("project", "Year of a step"), required=False,
        min_value=FIRST_DAY.year, max_value=LAST_DAY.year,
    )  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.visible_to(user).filter(
            level__in=AREA_LEVELS
        ).order_by("code")  # fmt: skip
        self.fields["area"].empty_label = _("All of mine")

    def clean_q(self):
        # PostgreSQL refuses a NUL in text; no name holds one.
        return self.cleaned_data["q"].replace("\x00", "").strip()


class ProjectTableForm(FilterForm):
    """The table's area (a district, street or community of the user's) and period: a year,
    or one of its quarters."""

    area = _AreaChoice(
        label=_("area"), queryset=Area.objects.none(), required=False, to_field_name="code"
    )
    year = forms.IntegerField(
        label=pgettext_lazy("project", "Year"), required=False, min_value=FIRST_DAY.year,
        max_value=LAST_DAY.year, initial=lambda: timezone.localdate().year,
    )  # fmt: skip
    quarter = forms.TypedChoiceField(
        label=pgettext_lazy("project", "Quarter"), required=False, coerce=int, empty_value=None,
        choices=[("", pgettext_lazy("project", "The whole year")), *[(n, n) for n in (1, 2, 3, 4)]],
    )  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.visible_to(user).filter(
            level__in=AREA_LEVELS
        ).order_by("code")  # fmt: skip
        self.fields["area"].empty_label = _("All of mine")
        self.fields["quarter"].choices = [
            ("", pgettext("project", "The whole year")),
            *[(n, pgettext("project", "Quarter %(n)s") % {"n": n}) for n in (1, 2, 3, 4)],
        ]
