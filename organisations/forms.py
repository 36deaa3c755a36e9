import datetime

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Member
from tongzhan.masking import name_seen_by
from tongzhan.models import Area
from tongzhan.widgets import DateInput

from .models import Membership, Organisation, Place
from .services import AREA_LEVELS

# The most members a search on the membership page offers.
SEARCH_LIMIT = 20


def _area_field(field, user, instance) -> None:
    """The district, streets and communities of the user's area still in use; theirs first."""
    field.queryset = (
        Area.objects.visible_to(user).current().filter(level__in=AREA_LEVELS).order_by("code")
    )
    field.label_from_instance = lambda item: item.name
    if user.area_id and not instance.pk:
        field.initial = user.area_id


class PhoneFormMixin:
    """A phone kept encrypted and shown masked: the form shows it in full only to those who
    may see full phones (the view logs that as a reveal); for others it starts empty, and
    left empty it keeps the stored number."""

    phone_field = ""

    def _phone_setup(self, user):
        self.phone_kept = False
        field = self.fields[self.phone_field]
        masked = getattr(self.instance, f"{self.phone_field}_masked", "")
        if self.instance.pk and masked and not user.has_perm("members.reveal_member"):
            self.phone_kept = True
            self.initial[self.phone_field] = ""
            field.widget.attrs["placeholder"] = masked
            field.help_text = _("Leave empty to keep %(phone)s.") % {"phone": masked}

    def phone_data(self, data: dict) -> dict:
        if self.phone_kept and not data[self.phone_field]:
            data.pop(self.phone_field)
        return data


class OrganisationForm(PhoneFormMixin, forms.ModelForm):
    phone_field = "contact_phone"

    class Meta:
        model = Organisation
        fields = [
            "name", "kind", "parent", "credit_code", "area", "address", "contact_member",
            "contact_name", "contact_phone", "notes", "is_active",
        ]  # fmt: skip
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 4}),
            "contact_phone": forms.TextInput(attrs={"inputmode": "tel"}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _area_field(self.fields["area"], user, self.instance)
        parents = Organisation.objects.visible_to(user).filter(
            kind=Organisation.Kind.SERVICE_GROUP, parent__isnull=True
        )
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        # Or the one it has, which may be the street's above the user's community.
        self.fields["parent"].queryset = Organisation.objects.filter(
            Q(pk__in=parents.values("pk")) | Q(pk=self.instance.parent_id)
        )
        # The contact among the organisation's current members the user sees, or the one
        # it has (who may have left since).
        current = Membership.objects.current().filter(organisation_id=self.instance.pk)
        contacts = Member.objects.filter(
            Q(pk__in=Member.objects.visible_to(user).filter(pk__in=current.values("member_id")))
            | Q(pk=self.instance.contact_member_id)
        )
        self.fields["contact_member"].queryset = contacts
        # The one it has may be another community's (the district chose her): named as the
        # organisation's page names her, masked.
        self.fields["contact_member"].label_from_instance = lambda m: name_seen_by(
            user, m.name, m.community_id
        )
        self.fields["contact_member"].help_text = _(
            "One of the organisation's members; or enter a name and phone below."
        )
        self._phone_setup(user)

    def service_data(self) -> dict:
        return self.phone_data({name: self.cleaned_data[name] for name in self.Meta.fields})


class PlaceForm(PhoneFormMixin, forms.ModelForm):
    phone_field = "manager_phone"

    class Meta:
        model = Place
        fields = [
            "name", "kind", "area", "address", "opening_hours", "manager_name",
            "manager_phone", "notes", "is_active",
        ]  # fmt: skip
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 4}),
            "manager_phone": forms.TextInput(attrs={"inputmode": "tel"}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _area_field(self.fields["area"], user, self.instance)
        self._phone_setup(user)

    def service_data(self) -> dict:
        return self.phone_data({name: self.cleaned_data[name] for name in self.Meta.fields})


class OrganisationFilterForm(forms.Form):
    q = forms.CharField(label=pgettext_lazy("organisation", "Name"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("kind"), required=False, choices=[("", _("All")), *Organisation.Kind.choices]
    )

    @property
    def in_use_besides_search(self) -> bool:
        return bool(self.data.get("kind"))

    def clean_q(self):
        # PostgreSQL refuses a NUL in text; no name holds one.
        return self.cleaned_data["q"].replace("\x00", "").strip()


class PlaceFilterForm(OrganisationFilterForm):
    kind = forms.ChoiceField(
        label=_("kind"), required=False, choices=[("", _("All")), *Place.Kind.choices]
    )


class MembershipForm(forms.Form):
    """A member the user sees, found by name (`q`, sent by GET), with a role and a date."""

    member = forms.ModelChoiceField(
        label=_("member"), queryset=Member.objects.none(), widget=forms.RadioSelect
    )
    role = forms.CharField(
        label=pgettext_lazy("membership", "role"),
        max_length=50,
        initial=pgettext_lazy("membership", "member"),
    )
    joined_on = forms.DateField(label=_("joined on"), widget=DateInput())

    def __init__(self, *args, user, found=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["joined_on"].initial = datetime.date.today
        member = self.fields["member"]
        member.queryset = Member.objects.visible_to(user).select_related("community")
        if found is not None:
            member.choices = [(m.pk, f"{m.name}（{m.community.name}）") for m in found]


class MembershipEndForm(forms.Form):
    left_on = forms.DateField(label=_("left on"), widget=DateInput())
