import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import Member
from tongzhan.models import Area
from tongzhan.widgets import DateInput

from .models import Campaign
from .services import CAMPAIGN_LEVELS

# The most members a search on the nomination page offers.
SEARCH_LIMIT = 20


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["kind", "kind_name", "year", "title", "description", "area", "deadline", "quota"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "deadline": DateInput(),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        area = self.fields["area"]
        area.queryset = (
            Area.objects.visible_to(user).current().filter(level__in=CAMPAIGN_LEVELS)
        ).order_by("code")
        area.label_from_instance = lambda item: item.name
        if user.area_id:
            area.initial = user.area_id
        self.fields["year"].initial = datetime.date.today().year

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class NominationForm(forms.Form):
    """A member of the user's community (found by name, `q` sent by GET), or a resident who
    is not a member, with the deeds and an optional file."""

    member = forms.ModelChoiceField(
        label=_("member"), queryset=Member.objects.none(), widget=forms.RadioSelect,
        required=False,
    )  # fmt: skip
    resident_name = forms.CharField(
        label=_("or a resident who is not a member: name"), max_length=50, required=False
    )
    contact = forms.CharField(label=_("contact"), max_length=50, required=False)
    notes = forms.CharField(
        label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    deeds = forms.CharField(label=_("deeds"), widget=forms.Textarea(attrs={"rows": 6}))
    files = forms.FileField(
        label=_("photo or PDF"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,.pdf"}),
    )

    def __init__(self, *args, user, found=None, **kwargs):
        super().__init__(*args, **kwargs)
        member = self.fields["member"]
        member.queryset = Member.objects.visible_to(user).filter(community_id=user.area_id)
        member.choices = [(m.pk, m.name) for m in (found or [])]

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("files", None)
        return data


class NominationEditForm(forms.Form):
    """What the nominating community changes: the deeds, for a resident the contact and notes,
    and more files. The contact shows in full only to those who may see full contacts (the
    view logs that as a reveal); for others it starts empty, and left empty keeps the one
    stored."""

    deeds = forms.CharField(label=_("deeds"), widget=forms.Textarea(attrs={"rows": 6}))
    contact = forms.CharField(label=_("contact"), max_length=50, required=False)
    notes = forms.CharField(
        label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    files = forms.FileField(
        label=_("add a photo or PDF"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,.pdf"}),
    )

    def __init__(self, *args, nomination, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact_kept = self.contact_shown = False
        self.initial.update(deeds=nomination.deeds, notes=nomination.notes)
        if nomination.member_id:
            # A member's contact and notes are her record's.
            del self.fields["contact"], self.fields["notes"]
        elif nomination.contact and user.has_perm("members.reveal_member"):
            self.contact_shown = True
            self.initial["contact"] = nomination.contact
        elif nomination.contact:
            self.contact_kept = True
            self.fields["contact"].widget.attrs["placeholder"] = nomination.contact_masked
            self.fields["contact"].help_text = _("Leave empty to keep %(phone)s.") % {
                "phone": nomination.contact_masked
            }

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("files", None)
        if self.contact_kept and not data.get("contact"):
            data.pop("contact")
        return data


class OpinionForm(forms.Form):
    """A choice with its opinion; `change` says a choice given before is changed."""

    opinion = forms.CharField(
        label=_("opinion"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    change = forms.BooleanField(required=False, widget=forms.HiddenInput)

    field_order = ["decision", "opinion", "change"]

    @property
    def changing(self) -> bool:
        return self.fields["change"].to_python(self["change"].value())


class ReviewForm(OpinionForm):
    decision = forms.ChoiceField(
        label=_("street's review"),
        choices=[("yes", _("Recommend")), ("no", _("Do not recommend"))],
        widget=forms.RadioSelect,
    )


class DecisionForm(OpinionForm):
    decision = forms.ChoiceField(
        label=_("district's decision"),
        choices=[("yes", _("Commend")), ("no", _("Do not commend"))],
        widget=forms.RadioSelect,
    )


class CountsForm(forms.Form):
    """Counts of one campaign, or of every campaign of a year."""

    campaign = forms.ModelChoiceField(
        label=_("commendation campaign"), queryset=Campaign.objects.none(), required=False
    )
    year = forms.IntegerField(label=_("year"), required=False, min_value=1900, max_value=2999)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.visible_to(user)
