"""Forms for setting up a period, its indicators, and hand scores."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from activities.models import ActivityType
from members.models import Nomination
from tongzhan.models import Area
from tongzhan.widgets import DateInput

from . import grids, rules
from .models import (
    Admission,
    Evaluation,
    EvaluationItem,
    EvaluationRound,
    EvaluationTemplate,
    Indicator,
    JointMeeting,
    Period,
    TalkRecord,
)


class PeriodForm(forms.ModelForm):
    class Meta:
        model = Period
        fields = [
            "name",
            "starts_on",
            "ends_on",
            "excellent_from",
            "good_from",
            "pass_from",
            "model_communities",
        ]
        widgets = {"starts_on": DateInput(), "ends_on": DateInput()}


class IndicatorForm(forms.ModelForm):
    # Typed as text; the model keeps the parsed list.
    tiers = forms.CharField(
        label=_("Tiers"),
        required=False,
        help_text=_('From how many members, which target: "0:4, 20:6, 51:10".'),
    )

    class Meta:
        model = Indicator
        fields = [
            "name",
            "kind",
            "metric",
            "activity_type",
            "weight",
            "rule",
            "tiers",
            "base",
            "rate",
            "cap",
            "scored_by",
            "sort_order",
        ]

    # The fields each kind of indicator uses (static/js/indicator_form.js shows only these);
    # what a kind does not use is not kept, whatever was typed there.
    MEASURED_ONLY = ("metric", "activity_type", "rule", "tiers", "base", "rate", "cap")
    SCORED_ONLY = ("scored_by",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # typed back as it is typed in, "0:4, 20:6"
            self.initial["tiers"] = ", ".join(
                f"{low}:{target}" for low, target in self.instance.tiers or []
            )
        self.fields["activity_type"].queryset = ActivityType.objects.filter(is_active=True)
        self.fields["cap"].help_text = _("1 gives no credit beyond the target; empty: uncapped.")
        for name in ("base", "rate", "sort_order"):  # only some rules use them
            self.fields[name].required = False

    def clean(self):
        data = super().clean()
        for name in ("base", "rate", "sort_order"):
            if data.get(name) is None:
                data[name] = 0
        if data.get("kind") == Indicator.Kind.MEASURED:
            data["scored_by"] = ""
        elif data.get("kind"):
            data.update(metric="", activity_type=None, rule="", tiers=[], base=0, rate=0)
            data["cap"] = Indicator._meta.get_field("cap").default
        return data

    def clean_tiers(self):
        text = self.cleaned_data["tiers"]
        if not text.strip():
            return []
        try:
            return rules.parse_tiers(text)
        except rules.TargetRuleError as error:
            raise forms.ValidationError(error.message) from None

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class CopyIndicatorsForm(forms.Form):
    """Which earlier period of the district to copy the indicators from."""

    source = forms.ModelChoiceField(
        label=_("Copy the indicators of"), queryset=Period.objects.none(), empty_label=None
    )

    def __init__(self, *args, period, user, **kwargs):
        super().__init__(*args, **kwargs)
        source = self.fields["source"]
        source.queryset = (
            Period.objects.visible_to(user)
            .filter(district_id=period.district_id, indicators__isnull=False)
            .exclude(pk=period.pk)
            .distinct()
        )
        source.label_from_instance = lambda item: (
            f"{item.name}（{item.starts_on:%Y-%m-%d} – {item.ends_on:%Y-%m-%d}）"
        )


class ScoreForm(forms.Form):
    points = forms.DecimalField(label=_("Points"), min_value=0, decimal_places=2)
    evidence = forms.CharField(
        label=_("Evidence and notes"), widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence_file = forms.FileField(
        label=_("Evidence file (photo or PDF, up to 10 MB)"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}
        ),
    )


class RoundForm(forms.ModelForm):
    class Meta:
        model = EvaluationRound
        fields = [
            "area",
            "name",
            "template",
            "superior_weight",
            "self_weight",
            "public_weight",
            "cut_share",
        ]

    # 入选评价: the nominees evaluated (with an admission template; the service checks them).
    nominees = forms.ModelMultipleChoiceField(
        label=_("Nominees (admission evaluation)"),
        queryset=Nomination.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        area = self.fields["area"]
        area.queryset = Area.objects.visible_to(user).filter(
            level__in=[Area.Level.DISTRICT, Area.Level.STREET]
        )
        area.label_from_instance = lambda item: item.name
        nominees = self.fields["nominees"]
        nominees.queryset = (
            Nomination.objects.visible_to(user)
            .pending()
            .exclude(admissions__decision="")
            .select_related("member__community")
        )
        nominees.label_from_instance = lambda item: (
            f"{item.member.name}（{item.member.community.name}）"
        )


class SheetForm(forms.Form):
    """One source's scores for every item of a template."""

    def __init__(self, *args, items, scores=None, **kwargs):
        super().__init__(*args, **kwargs)
        scores = scores or {}
        self.items = items
        for item in items:
            self.fields[f"item_{item.pk}"] = forms.DecimalField(
                label=f"{item.category.name} · {item.name}",
                min_value=0,
                max_value=item.max_score,
                decimal_places=2,
                initial=scores.get(item.pk),
                help_text=_("up to %(most)s") % {"most": item.max_score},
            )

    def scores(self) -> dict:
        return {item: self.cleaned_data[f"item_{item.pk}"] for item in self.items}


class VetoForm(forms.Form):
    item = forms.ModelChoiceField(label=_("Veto item"), queryset=EvaluationItem.objects.none())
    note = forms.CharField(label=_("Evidence and notes"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, template, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = EvaluationItem.objects.filter(
            category__template=template, is_veto=True
        )


# -- The evaluation template editor ------------------------------------------------------------
#
# A template, its categories (one formset) and each category's items (a formset per category,
# prefixed by the category's form). Every page carries empty rows: one category with three
# items, and one more item under each category, so rows are added without JavaScript (save,
# and the page comes back with empty rows again); static/js/template_form.js adds more.

NEW_CATEGORY_ITEMS = 3


class TemplateForm(forms.ModelForm):
    class Meta:
        model = EvaluationTemplate
        fields = ["name", "kind", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out, a template is of the yearly kind (or keeps its kind).
        self.fields["kind"].required = False


class CategoryForm(forms.Form):
    pk = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(
        label=_("Category"), max_length=60, required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Category name, e.g. 政治素质")}),
    )  # fmt: skip
    sort_order = forms.IntegerField(label=_("Order"), min_value=0, max_value=32767, required=False)


class ItemForm(forms.Form):
    pk = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Item"), max_length=200, required=False)
    max_score = forms.DecimalField(
        label=_("Maximum score"), max_digits=6, decimal_places=2, min_value=0, required=False
    )
    is_veto = forms.BooleanField(label=_("Veto item"), required=False)
    sort_order = forms.IntegerField(label=_("Order"), min_value=0, max_value=32767, required=False)


CategoryFormSet = forms.formset_factory(CategoryForm, extra=1, can_delete=True, max_num=100)
ItemFormSet = forms.formset_factory(ItemForm, extra=1, can_delete=True, max_num=200)


def _filled(form) -> bool:
    """Whether a row holds anything: an empty row (an extra, or one blanked) is left out."""
    data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    return bool(data.get("pk") or data.get("name"))


class TemplateEditor:
    """The template form with its categories and items; `structure()` is what the services
    take. `form` is the template's own form, where a service's refusal is shown."""

    def __init__(self, data=None, *, template=None, structure=(), fixed=False):
        self.form = TemplateForm(data, instance=template)
        self.fixed = fixed  # a used template: only its name and notes are on the page
        initial = [
            {"pk": c["pk"], "name": c["name"], "sort_order": c["sort_order"]} for c in structure
        ]
        items = {index: category["items"] for index, category in enumerate(structure)}
        self.categories = CategoryFormSet(data, prefix="c", initial=initial)
        for index, category in enumerate(self.categories.forms):
            rows = items.get(index, [])
            category.items = ItemFormSet(
                data, prefix=f"{category.prefix}-i",
                initial=[{key: item[key] for key in ("pk", "name", "max_score", "is_veto",
                                                     "sort_order")} for item in rows],
            )  # fmt: skip
            if index >= len(structure) and data is None:
                category.items.extra = NEW_CATEGORY_ITEMS
        self.empty_category = self.categories.empty_form
        self.empty_category.items = ItemFormSet(prefix=f"{self.empty_category.prefix}-i")
        self.empty_category.items.extra = NEW_CATEGORY_ITEMS

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        if self.fixed:
            return valid
        valid = self.categories.is_valid() and valid
        for category in self.categories.forms:
            valid = category.items.is_valid() and valid
        if valid:
            for category in self.categories.forms:
                deleted = category.cleaned_data.get("DELETE")
                rows = [
                    f
                    for f in category.items.forms
                    if _filled(f) and not f.cleaned_data.get("DELETE")
                ]  # noqa: E501
                if (
                    not deleted
                    and (rows or _filled(category))
                    and not category.cleaned_data.get("name")
                ):  # noqa: E501
                    category.add_error("name", _("Name the category of these items."))
                    valid = False
                for row in rows:
                    if not row.cleaned_data.get("name"):
                        row.add_error("name", _("Name the item, or tick Remove."))
                        valid = False
        return valid

    def structure(self) -> list[dict]:
        """The categories and items kept (filled, not removed), numbered in page order where
        no order was typed."""
        categories = []
        for position, category in enumerate(self.categories.forms):
            data = category.cleaned_data
            rows = [
                f for f in category.items.forms if _filled(f) and not f.cleaned_data.get("DELETE")
            ]  # noqa: E501
            if data.get("DELETE") or not (_filled(category) or rows):
                continue
            items = [
                {
                    "pk": row.cleaned_data.get("pk"),
                    "name": row.cleaned_data["name"],
                    "max_score": row.cleaned_data.get("max_score") or 0,
                    "is_veto": row.cleaned_data.get("is_veto", False),
                    "sort_order": row.cleaned_data.get("sort_order")
                    if row.cleaned_data.get("sort_order") is not None
                    else number,
                }
                for number, row in enumerate(rows)
            ]
            categories.append({
                "pk": data.get("pk"),
                "name": data["name"],
                "sort_order": data["sort_order"] if data.get("sort_order") is not None
                else position,
                "items": items,
            })  # fmt: skip
        return categories


class TemplateCopyForm(forms.Form):
    name = forms.CharField(label=_("Name of the new template"), max_length=100)


class GridForm(forms.Form):
    """A grid of scores (`grids.Grid`): a text field per cell the user may score, read by
    `grids.read_post` so each refusal names its row and column, and what the changed scores
    rest on. Without `cells`, the confirmation of an uploaded grid."""

    evidence = forms.CharField(
        label=_("Evidence and notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For every score changed now; left empty, a changed score keeps its notes."),
    )

    def __init__(self, *args, grid, cells=True, evidence=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.grid, self.changes = grid, []
        if not evidence:
            del self.fields["evidence"]
        if cells:
            for row in grid.rows:
                for column in grid.columns:
                    if column.key in row.editable:
                        self.fields[grids.cell_name(row, column)] = forms.CharField(
                            required=False,
                            initial=grids.plain(row.values.get(column.key)),
                            label=f"{row.label} × {column.name}",
                        )
        self.cells = cells

    def clean(self):
        data = super().clean()
        if self.cells:
            self.changes, errors = grids.read_post(self.grid, data, self.data)
            for name, message in errors.items():
                self.add_error(name, message)
        return data

    def rows(self):
        """(row, [(column, its field or None, current score)]) for the page."""
        for row in self.grid.rows:
            cells = []
            for column in self.grid.columns:
                name = grids.cell_name(row, column)
                field = self[name] if self.cells and name in self.fields else None
                cells.append((column, field, row.values.get(column.key)))
            yield row, cells


class GridUploadForm(forms.Form):
    """A filled-in copy of a grid's workbook, read whole: refused with every problem listed,
    or `changes` holds what it would change."""

    file = forms.FileField(
        label=_("Filled-in score sheet (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def __init__(self, *args, grid, **kwargs):
        super().__init__(*args, **kwargs)
        self.grid, self.changes = grid, []

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > grids.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(grids.too_large())
        try:
            self.changes = grids.read_xlsx(self.grid, upload.read(), upload.name)
        except grids.GridFileError as error:
            raise forms.ValidationError(error.message.split("\n")) from None
        return upload


class SourceForm(forms.Form):
    """Which source's scores an evaluation grid shows (its query string)."""

    source = forms.ChoiceField(choices=Evaluation.Source.choices, required=False)


# -- Around a round: the joint meeting, outside evaluators, talks (issue 18) -----------------


class JointMeetingForm(forms.Form):
    """The joint meeting; the service (`meetings.joint_meeting_set`) checks it all again."""

    held_on = forms.DateField(label=_("Held on"), widget=DateInput)
    bodies = forms.MultipleChoiceField(
        label=_("Participating bodies"),
        choices=JointMeeting.Body.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_bodies = forms.CharField(
        label=_("Other participating bodies"),
        max_length=200,
        required=False,
        help_text=_("Bodies not in the list, separated by 、."),
    )
    attendees = forms.CharField(
        label=_("Meeting attendees"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("One a line: the name, then the unit (张三 区人大常委会)."),
    )
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 8}))
    minutes_file = forms.FileField(
        label=_("Minutes (PDF)"),
        required=False,
        help_text=_("The signed minutes, if scanned; a new file replaces the earlier one."),
    )


class OutsideEvaluatorForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("of a person", "name"), max_length=50)
    unit = forms.CharField(label=_("Unit"), max_length=100)


class TalkRecordForm(forms.ModelForm):
    class Meta:
        model = TalkRecord
        fields = ["kind", "held_on", "held_by", "content", "outcome", "reason"]
        widgets = {
            "kind": forms.RadioSelect,
            "held_on": DateInput,
            "content": forms.Textarea(attrs={"rows": 4}),
            "outcome": forms.Textarea(attrs={"rows": 2}),
            "reason": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"reason": _("Only when no talk was held: for example 已迁出.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = TalkRecord.Kind.choices  # radios, no empty one

    def _post_clean(self):
        # The service checks the record (which fields the kind needs) and saves it.
        pass


class AdmissionDecisionForm(forms.Form):
    """The district's decision on a nominee (同意入选 / 不予入选)."""

    # No default: the officer chooses one, the page preselects none.
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=Admission.Decision.choices,
        error_messages={
            "required": _("Choose 同意入选 or 不予入选."),
            "invalid_choice": _("Choose 同意入选 or 不予入选."),
        },
    )
    decided_on = forms.DateField(
        label=_("Date of the decision"),
        widget=DateInput(),
        error_messages={"required": _("Give the date of the decision.")},
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
