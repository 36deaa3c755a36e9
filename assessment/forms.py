"""Forms for setting up a period, its indicators, and hand scores."""

from django import forms
from django.utils.translation import gettext_lazy as _

from activities.models import ActivityType
from tongzhan.models import Area
from tongzhan.widgets import DateInput

from . import rules
from .models import EvaluationItem, EvaluationRound, Indicator, Period


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

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        area = self.fields["area"]
        area.queryset = Area.objects.visible_to(user).filter(
            level__in=[Area.Level.DISTRICT, Area.Level.STREET]
        )
        area.label_from_instance = lambda item: item.name


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
