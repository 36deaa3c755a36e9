"""Member forms. The model carries the field rules and `services.member_check` the rules
that span fields and the registry; the forms show their messages."""

import json

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongzhan import documents
from tongzhan.models import Area
from tongzhan.widgets import CompactSelect, DateInput

from . import services
from .models import Category, DutyRecord, Member, PoliticalArrangement, Relative
from .roster import READ_COLUMNS
from .roster_reader import RosterFileError, check_size


class MemberForm(forms.ModelForm):
    """Create and edit a member within the user's scope."""

    # The member's version when the form was opened: saving over a later change is refused
    # (`services.member_update`). Not named `version`: that model field is not editable.
    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    # Shown with the warning of possible duplicates (可能重复): ticked, the form saves anyway.
    not_duplicate = forms.BooleanField(
        label=gettext_lazy("I confirm this is not the same person"), required=False
    )

    class Meta:
        model = Member
        fields = [
            "name",
            "document_type",
            "document_country",
            "id_number",
            "sex",
            "birth_date",
            "ethnicity",
            "political_status",
            "education",
            "native_place",
            "workplace",
            "professional_title",
            "social_positions",
            "phone",
            "address",
            "community",
            "grid",
            "specialty",
            "categories",
            *Member.category_field_names(),
            "notes",
            "informed_how",
            "informed_on",
            "not_informed_reason",
        ]
        widgets = {
            "birth_date": DateInput(),
            "informed_on": DateInput(),
            "party_joined_on": DateInput(),
            "returned_on": DateInput(),
            "categories": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 3}),
            "id_number": forms.TextInput(attrs={"autocomplete": "off", "maxlength": 22}),
            "phone": forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
        }
        help_texts = {
            "sex": gettext_lazy(
                "Leave empty to take it from an 18-character number; required for other documents."
            ),
            "birth_date": gettext_lazy(
                "Leave empty to take it from an 18-character number; required for other documents."
            ),
            # 告知 (PIPL arts. 17, 35).
            "informed_how": gettext_lazy(
                "How the person was told what is kept about her and why. Leave empty while she "
                "has not been told, and give the reason below. Once saved, a notice can be "
                "corrected but not removed."
            ),
            "informed_on": gettext_lazy("The day she was told; not in the future."),
            "not_informed_reason": gettext_lazy(
                "Only while she has not been told, for example: working away from home, to be "
                "told on her return. Dropped once a notice is recorded."
            ),
        }

    def __init__(self, *args, user, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request
        visible = Area.objects.visible_to(user).current()
        self.fields["community"].queryset = visible.communities()
        self.fields["grid"].queryset = visible.filter(level=Area.Level.GRID)
        self.fields["categories"].queryset = Category.objects.all()
        # Stable slugs in the form, so the script and saved links do not depend on row ids.
        self.fields["categories"].to_field_name = "slug"
        if user.area_id and user.area.level == Area.Level.COMMUNITY and not self.instance.pk:
            self.fields["community"].initial = user.area_id
        self.fields["document_type"].required = False
        self._label_number()
        if self.instance.pk:
            # Moving a member is a transfer, with its own page and history entry.
            self.fields["community"].disabled = True
            self.fields["opened_version"].required = True
            self.fields["opened_version"].initial = self.instance.version

    def _label_number(self) -> None:
        """The number's label names the chosen document (the script changes it as the type
        changes); the country is asked only for a passport."""
        labels = {
            value: _("%(document)s number") % {"document": label}
            for value, label in Member.DocumentType.choices
        }
        chosen = self["document_type"].value() or Member.DocumentType.ID_CARD
        self.fields["id_number"].label = labels.get(chosen, labels[Member.DocumentType.ID_CARD])
        self.fields["document_type"].widget.attrs["data-number-labels"] = json.dumps(
            labels, ensure_ascii=False
        )
        self.fields["document_country"].widget.attrs["data-shown-for"] = (
            Member.DocumentType.PASSPORT
        )

    def clean_document_type(self):
        # A form posted without the select (an older page, a script) means the ID card.
        return self.cleaned_data.get("document_type") or Member.DocumentType.ID_CARD

    def clean_id_number(self):
        raw = self.cleaned_data.get("id_number", "")
        document_type = self.cleaned_data.get("document_type") or Member.DocumentType.ID_CARD
        try:
            return documents.parse(document_type, raw).number
        except forms.ValidationError:
            # Member.clean() reports the reason against this field.
            return raw

    def clean(self):
        cleaned = super().clean()
        data = self.service_data(cleaned)
        try:
            categories = services.member_check(
                actor=self.user,
                data=data,
                member=self.instance if self.instance.pk else None,
                request=self.request,
            )
        except forms.ValidationError as refused:
            categories = None
            for name, errors in refused.error_dict.items():
                if name not in self.errors:
                    self.add_error(name, [self._with_link(error) for error in errors])
            if "id_number" in refused.error_dict:
                # Member.clean() re-parses the instance's number; give it the valid one so
                # the duplicate is the only message on the field.
                self.instance.id_number = data["id_number"]
        if categories is not None:
            cleaned["categories"] = categories
        if not self.errors and not cleaned.get("not_duplicate"):
            self._warn_of_duplicates(data)
        slugs = [category.slug for category in cleaned.get("categories") or []]
        # Fields of categories the member is not in are hidden in the form; clear them so
        # nothing stale stays stored.
        kept = {field for slug in slugs for field in Member.CATEGORY_FIELDS.get(slug, ())}
        for name in Member.category_field_names():
            if name not in kept and name in cleaned:
                cleaned[name] = None if isinstance(self.fields[name], forms.DateField) else ""
        return cleaned

    # What a possible duplicate is matched on: an edit leaving them alone is not checked again.
    DUPLICATE_FIELDS = ("name", "birth_date", "id_number", "phone", "workplace")

    def _warn_of_duplicates(self, data: dict) -> None:
        """Stop the first save of a person who may be registered already (可能重复), naming
        the records in the user's area with a link and counting those outside it; the
        checkbox `not_duplicate` then saves anyway. Checked only once the form is otherwise
        valid, so each answer about people outside the area is given for a real save."""
        if self.instance.pk and not set(self.DUPLICATE_FIELDS) & set(self.changed_data):
            return
        self.duplicate_warning = services.member_duplicates_warning(
            actor=self.user, member_or_data=data, exclude=[self.instance.pk], request=self.request
        )
        if not self.duplicate_warning:
            return
        for member, reasons in self.duplicate_warning.inside:
            self.add_error(
                "not_duplicate",
                format_html(
                    '<a href="{}" target="_blank">{}</a>（{}）：{}',
                    reverse("members:detail", args=[member.pk]),
                    member.name,
                    member.community.name,
                    services.duplicate_reasons_text(reasons),
                ),
            )
        if self.duplicate_warning.elsewhere:
            self.add_error(
                "not_duplicate", services.elsewhere_text(self.duplicate_warning.elsewhere)
            )

    duplicate_warning = None

    def _with_link(self, error: forms.ValidationError):
        """A duplicate within the user's area, with a link to move that record here (for who
        may) or to open it."""
        if error.code != "duplicate":
            return error
        existing = error.params["member"]
        may_transfer = self.user.has_perm("members.transfer_member") and (
            Member.objects.editable_by(self.user).filter(pk=existing).exists()
        )
        if may_transfer:
            target = self.data.get("community", "")
            link = format_html(
                '<a href="{}?{}">{}</a>',
                reverse("members:transfer", args=[existing]),
                urlencode({"to": target}) if str(target).isdigit() else "",
                _("Transfer the record here"),
            )
        else:
            link = format_html(
                '<a href="{}">{}</a>',
                reverse("members:detail", args=[existing]),
                _("Open the record"),
            )
        message = format_html("{} {}", error.messages[0], link)
        return forms.ValidationError(message, code="duplicate")

    @staticmethod
    def category_sections_for(slugs=None) -> list[dict]:
        """Groups of category fields: title, field names and the categories that show them.

        Hong Kong, Macao and Taiwan share one group. With `slugs`, only the groups of those
        categories.
        """
        titles = {
            "democratic_party": _("Democratic party"),
            "religious": _("Religion"),
            "private_economy": _("Non-public economy"),
            "new_stratum": _("New social stratum"),
            "overseas_study": _("Study abroad"),
            "hong_kong": _("Hong Kong, Macao and Taiwan"),
            "overseas_chinese": _("Overseas Chinese affairs"),
        }
        sections: dict[tuple, dict] = {}
        for slug, names in Member.CATEGORY_FIELDS.items():
            section = sections.setdefault(
                names, {"title": titles.get(slug), "names": names, "slugs": []}
            )
            section["slugs"].append(slug)
        return [
            section
            for section in sections.values()
            if slugs is None or set(section["slugs"]) & set(slugs)
        ]

    def category_sections(self) -> list[dict]:
        """The groups with their bound fields, for the template."""
        return [
            {
                **section,
                "slugs": " ".join(section["slugs"]),
                "fields": [self[n] for n in section["names"]],
            }
            for section in self.category_sections_for()
        ]

    def service_data(self, cleaned=None) -> dict:
        """What the services take: the model's fields and the categories."""
        data = dict(self.cleaned_data if cleaned is None else cleaned)
        data.pop("opened_version", None)
        data.pop("not_duplicate", None)
        if self.instance.pk:
            data.pop("community", None)
        return data


class MemberStatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("status"), choices=Member.Status.choices)
    date = forms.DateField(label=gettext_lazy("date"), widget=DateInput())
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=200, required=False)

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date > timezone.localdate():
            raise forms.ValidationError(_("The date lies in the future."))
        return date


class MemberTransferForm(forms.Form):
    to_community = forms.ModelChoiceField(
        label=gettext_lazy("to community"),
        queryset=Area.objects.current().communities().select_related("parent"),
    )
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=200)

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["to_community"]
        field.queryset = field.queryset.exclude(pk=member.community_id)
        field.label_from_instance = lambda area: f"{area.parent.name} · {area.name}"


class TransferAcceptForm(forms.Form):
    """Accepting a transfer: the grid of the receiving community she joins, if any."""

    grid = forms.ModelChoiceField(
        label=gettext_lazy("grid"), queryset=Area.objects.none(), required=False
    )

    def __init__(self, *args, transfer, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["grid"]
        field.queryset = Area.objects.filter(
            level=Area.Level.GRID, parent=transfer.to_community_id
        ).order_by("code")
        field.empty_label = _("(no grid)")
        field.initial = transfer.to_grid_id


class TransferDeclineForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("reason for declining"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LinkedMemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, member):
        # What tells two people of one name apart without decrypting anything.
        return _("%(name)s, born %(year)s, %(community)s, document …%(last)s") % {
            "name": member.name,
            "year": member.birth_date.year,
            "community": member.community.name,
            # A short document's mask shows fewer than four (P******78): only what it shows.
            "last": member.id_number_masked[-4:].lstrip("*"),
        }


class RelativeForm(forms.ModelForm):
    """A relative of `instance.member`. The member record of the relative is offered among the
    records the user may see that bear the relative's name; a link to a record the user may
    not see is neither shown nor changed."""

    linked_member = LinkedMemberChoiceField(
        queryset=Member.objects.none(),
        required=False,
        label=gettext_lazy("Member record of the relative"),
        empty_label=gettext_lazy("Not registered, or not this person"),
    )

    class Meta:
        model = Relative
        fields = list(services.RELATIVE_FIELDS)
        widgets = {
            "contact": forms.TextInput(attrs={"autocomplete": "off", "maxlength": 60}),
        }
        help_texts = {
            "relation_other": gettext_lazy("Only for another relation: 姑父, 表兄 ..."),
            "contact": gettext_lazy("A phone (in Taiwan or abroad too), WeChat or e-mail."),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        member = self.instance.member
        visible = Member.objects.visible_to(user)
        linked_id = self.instance.linked_member_id
        if linked_id and not visible.filter(pk=linked_id).exists():
            # Somebody with a wider area linked a record this user may not see: it stays.
            del self.fields["linked_member"]
        else:
            name = (self["name"].value() or "").strip()
            candidates = visible.filter(name=name).exclude(pk=member.pk) if name else visible.none()
            if linked_id:
                candidates = candidates | visible.filter(pk=linked_id)
            self.fields["linked_member"].queryset = (
                candidates.select_related("community")
                .only("id", "name", "birth_date", "id_number_masked", "community__name")
                .order_by("name", "id")
            )
        if self.instance.contact and not user.has_perm("members.reveal_member"):
            # Editing the contact shows it in full: only for who may see it.
            del self.fields["contact"]

    @property
    def offers_link(self) -> bool:
        field = self.fields.get("linked_member")
        return field is not None and field.queryset.exists()

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


# -- The representative's file (issue 18) ------------------------------------------------------


class ServiceDataMixin:
    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class PoliticalArrangementForm(ServiceDataMixin, forms.ModelForm):
    """A political arrangement of `instance.member`: new ones are in office; how one ended
    is changed here too once it has (a correction), its ending otherwise on its own page."""

    class Meta:
        model = PoliticalArrangement
        fields = list(services.ARRANGEMENT_FIELDS)
        widgets = {
            "term_from": DateInput(),
            "term_to": DateInput(),
            "ended_on": DateInput(),
            "body": CompactSelect,
            "level": CompactSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None or self.instance.in_office:
            for name in ("state", "ended_on", "end_reason"):
                del self.fields[name]
        self.fields["organisation"].widget.attrs["data-named-bodies"] = " ".join(
            PoliticalArrangement.NAMED_BODIES + (PoliticalArrangement.Body.SPECIAL,)
        )


class ArrangementEndForm(forms.Form):
    """How an arrangement in office ended: its term ran out, or it was cancelled."""

    state = forms.ChoiceField(
        label=gettext_lazy("How it ended"),
        choices=[
            (value, label)
            for value, label in PoliticalArrangement.State.choices
            if value != PoliticalArrangement.State.IN_OFFICE
        ],
        widget=forms.RadioSelect,
    )
    ended_on = forms.DateField(
        label=gettext_lazy("ended on"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy("For a term that ran out, empty means the term's last day."),
    )
    end_reason = forms.CharField(
        label=gettext_lazy("reason"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Required for a cancellation."),
    )


class DutyRecordForm(ServiceDataMixin, forms.ModelForm):
    """An entry of `instance.member`'s duty record. `as` offers the member's own political
    arrangements; the outcome lists every outcome once (an outcome two kinds share, 待答复,
    is one option), and the script offers those of the chosen kind; the model refuses the
    others."""

    class Meta:
        model = DutyRecord
        fields = list(services.DUTY_FIELDS)
        widgets = {
            "kind": CompactSelect,
            "date": DateInput(),
            "date_to": DateInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
            "amount": forms.NumberInput(attrs={"min": 0, "step": "0.01", "inputmode": "decimal"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        member = self.instance.member
        arrangement = self.fields["arrangement"]
        arrangement.queryset = member.arrangements.all()
        arrangement.label_from_instance = _arrangement_label
        arrangement.empty_label = _("(none)")
        # For the script that shows only what the chosen kind takes.
        self.fields["outcome"].widget.attrs["data-kinds"] = json.dumps(
            {kind: list(values) for kind, values in DutyRecord.OUTCOMES.items()}
        )
        self.fields["amount"].widget.attrs["data-kinds"] = " ".join(DutyRecord.AMOUNT_KINDS)


def _arrangement_label(arrangement: PoliticalArrangement) -> str:
    if arrangement.in_office:
        return arrangement.text
    return f"{arrangement.text}（{arrangement.get_state_display()}）"


class RosterUploadForm(forms.Form):
    """A roster file to check and import, with the options of `import_members`."""

    file = forms.FileField(
        label=gettext_lazy("Roster file"),
        help_text=gettext_lazy(
            "Excel (.xlsx, .xls) or CSV (UTF-8 or GBK); the first sheet is read. The file is "
            "checked first: nothing is written before you confirm."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
    )
    community = forms.ModelChoiceField(
        label=gettext_lazy("Community for rows without one"),
        queryset=Area.objects.current().communities().select_related("parent"),
        required=False,
        help_text=gettext_lazy("Rows that name their community keep it."),
    )
    strict = forms.BooleanField(
        label=gettext_lazy("Import only if every row is valid"),
        required=False,
        help_text=gettext_lazy(
            "Otherwise the valid rows are imported and the refused ones are offered as an "
            "Excel file to fix and upload again."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        field.queryset = field.queryset.visible_to(user)
        field.label_from_instance = lambda area: f"{area.parent.name} · {area.name}"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_size(upload.size)
        except RosterFileError as error:
            raise forms.ValidationError(error.message) from None
        return upload


class ColumnMappingForm(forms.Form):
    """The mapping step of a roster import: for each column no rule knows, which field of the
    registry it holds, or that it is not imported. Offered filled in with what the uploader
    said for the same headers last time."""

    IGNORE = "-"

    def __init__(self, *args, unknown: list[str], offered: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            ("", gettext_lazy("— choose —")),
            *((column.key, column.title) for column in READ_COLUMNS),
            (self.IGNORE, gettext_lazy("Do not import")),
        ]
        self.headers = {}
        for index, header in enumerate(unknown):
            name = f"column_{index}"
            self.headers[name] = header
            self.fields[name] = forms.ChoiceField(label=header, choices=choices)
            if header in offered:
                self.initial[name] = offered[header] or self.IGNORE

    def columns(self) -> dict[str, str]:
        """header → roster column key, or "" not to import it."""
        return {
            header: "" if self.cleaned_data[name] == self.IGNORE else self.cleaned_data[name]
            for name, header in self.headers.items()
        }


class NominationForm(forms.Form):
    """Why a member is proposed as a representative (代表人士人选)."""

    reason = forms.CharField(
        label=gettext_lazy("Why she is proposed"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )


class NominationWithdrawForm(forms.Form):
    """Why a nomination awaiting its decision is withdrawn (撤回)."""

    reason = forms.CharField(
        label=gettext_lazy("Why it is withdrawn"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class RegisterYearForm(forms.Form):
    """The year the register of entries and exits shows (this year when none is asked)."""

    year = forms.IntegerField(
        label=gettext_lazy("Year"), min_value=1949, max_value=2100, required=False
    )

    def year_or_this(self) -> int:
        if self.is_valid() and self.cleaned_data["year"] is not None:
            return self.cleaned_data["year"]
        return timezone.localdate().year
