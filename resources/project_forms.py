"""The forms of the projects' pages (引资引智): a project, its next step, the list's filters and
the table's area and period."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from members.models import Member
from organisations.models import Organisation
from tongzhan.filters import FIRST_DAY, LAST_DAY, DayField, FilterForm
from tongzhan.masking import name_seen_by
from tongzhan.models import Area

from .models import Project, ProjectStage
from .services import AREA_LEVELS, PROJECT_FIELDS


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
        members = Member.objects.visible_to(user).select_related("community")
        if self.instance.member_id:
            members = members | Member.objects.filter(pk=self.instance.member_id)
        self.fields["member"].queryset = members.defer("id_number", "phone").order_by("name")
        # The member it has may be another area's (moved away, or the street's choice):
        # named as the pages name her.
        self.fields["member"].label_from_instance = lambda m: (
            f"{name_seen_by(user, m.name, m.community_id)}（{m.community.name}）"
        )
        organisations = Organisation.objects.visible_to(user)
        if self.instance.organisation_id:
            organisations = organisations | Organisation.objects.filter(
                pk=self.instance.organisation_id
            )
        self.fields["organisation"].queryset = organisations
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
