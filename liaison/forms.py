import datetime
import datetime as _datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils import timezone
from django.utils import timezone as _timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from activities.forms import PhotosField, PhotosInput
from activities.models import Activity, Need, Visit
from tongzhan.filters import FilterForm
from tongzhan.models import Area
from tongzhan.scoping import within_area
from tongzhan.widgets import CompactSelect, DateInput

from .models import PUBLISHING_LEVELS, Material, Notice, Report, Task, TaskCopy, Training
from .services import task_recipient_choices

# -- Notices (通知公告) ----------------------------------------------------------------------


class RecipientChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.parent.name} · {obj.name}" if obj.parent_id else obj.name


class NoticeForm(forms.ModelForm):
    """A notice and whom it goes to: every community below one area (the sender's own, one of
    its streets) or the communities ticked. Whether they lie in the sender's area is the
    service's check; the choices offered already do."""

    area = forms.ModelChoiceField(
        label=_("To every community of"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("(only the communities ticked below)"),
        help_text=_("Or tick the communities below: then only they receive it."),
    )
    communities = RecipientChoiceField(
        label=_("Only to these communities"),
        queryset=Area.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checkbox-list"}),
    )
    files = PhotosField(
        label=_("Attach photos or PDF documents (up to 10 MB each)"),
        required=False,
        widget=PhotosInput(attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}),
    )

    class Meta:
        model = Notice
        fields = ["title", "body", "reply_by"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 8}),
            "reply_by": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        below = Area.objects.current().within(user.area)
        # The sender's own area and the streets below it; a street sends to its communities.
        self.fields["area"].queryset = below.filter(
            Q(pk=user.area_id) | Q(level=Area.Level.STREET)
        ).order_by("code")
        self.fields["area"].initial = user.area_id
        self.fields["communities"].queryset = (
            below.communities().select_related("parent").order_by("code")
        )

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("title", "body", "reply_by")}


class NoticeReplyForm(forms.Form):
    reply = forms.CharField(
        label=_("Reply"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )


class WithdrawForm(forms.Form):
    """Why a notice, task or report is taken back (撤回): the receivers see it."""

    reason = forms.CharField(
        label=_("Why it is withdrawn"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Those who received it see this."),
        error_messages={"required": _("Say why it is withdrawn.")},
    )


class NoticeListFilter(forms.Form):
    unread = forms.BooleanField(label=_("Unread only"), required=False)


# -- end of notices --


# -- Tasks and supervision (任务督办) --------------------------------------------------------


# A report links the records of its area from this many days before the task was sent.
TASK_LINK_DAYS_BEFORE = 90


class AreaChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.get_level_display()}）"


class TaskForm(forms.ModelForm):
    """A new task: what, by when, to which areas of the sender's."""

    recipients = AreaChoiceField(
        label=_("Send to"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "checklist"}),
        help_text=_("Streets or communities within your area."),
    )
    files = PhotosField(label=_("Add photos or PDF documents (up to 10 MB each)"), required=False)

    class Meta:
        model = Task
        fields = ["title", "body", "deadline"]
        widgets = {"deadline": DateInput(), "body": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipients"].queryset = task_recipient_choices(user.area).select_related(
            "parent"
        )


class TaskRecordChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple(attrs={"class": "checklist"})


class TaskReportForm(forms.Form):
    """An area's report on its copy: what was done and the records that did it."""

    report = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 5}))
    completed_on = forms.DateField(label=_("Done on"), required=False, widget=DateInput())
    activities = TaskRecordChoiceField(label=_("Activities"), queryset=None, required=False)
    visits = TaskRecordChoiceField(label=_("Visits"), queryset=None, required=False)
    needs = TaskRecordChoiceField(label=_("Needs"), queryset=None, required=False)
    files = PhotosField(label=_("Add photos or PDF documents (up to 10 MB each)"), required=False)

    def __init__(self, *args, user, copy: TaskCopy, **kwargs):
        super().__init__(*args, **kwargs)
        since = _timezone.localtime(copy.task.created_at).date() - _datetime.timedelta(
            days=TASK_LINK_DAYS_BEFORE
        )
        # The records of the copy's area the user sees, from a while before the task came.
        self.fields["activities"].queryset = (
            Activity.objects.visible_to(user)
            .filter(within_area(copy.area, "area"), starts_at__date__gte=since)
            .order_by("-starts_at", "-id")
        )
        self.fields["visits"].queryset = (
            Visit.objects.visible_to(user)
            .filter(within_area(copy.area, "community"), date__gte=since)
            .order_by("-date", "-id")
        )
        self.fields["needs"].queryset = (
            Need.objects.visible_to(user)
            .filter(within_area(copy.area, "community"), raised_on__gte=since)
            .select_related("member")
            .order_by("-raised_on", "-id")
        )
        offered = _("Records of %(area)s from %(since)s on that you may see.") % {
            "area": copy.area.name,
            "since": since.isoformat(),
        }
        for name in ("activities", "visits", "needs"):
            self.fields[name].help_text = offered
        if copy.reported_at and not self.is_bound:
            # Reported before and sent back: the report as it was, to be mended.
            self.initial.update(
                report=copy.report,
                activities=list(copy.activities.values_list("pk", flat=True)),
                visits=list(copy.visits.values_list("pk", flat=True)),
                needs=list(copy.needs.values_list("pk", flat=True)),
            )
        self.fields["activities"].label_from_instance = lambda a: (
            f"{_timezone.localtime(a.starts_at):%Y-%m-%d} {a.title}"
        )


class TaskReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it goes back"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("Say why the task goes back.")},
    )


class TaskCopyFilterForm(forms.Form):
    """The supervision table's filters: state (退回 counts as its own), sort, and on the
    per-area list the area."""

    STATES = [("", _("All states")), *TaskCopy.State.choices, ("returned", _("Returned")),
              ("overdue", _("Overdue"))]  # fmt: skip
    state = forms.ChoiceField(label=_("State"), choices=STATES, required=False)
    area = forms.CharField(
        label=_("Area code"),
        required=False,
        max_length=20,
        validators=[RegexValidator(r"^[0-9]{6,20}$", _("Give the area's code in digits."))],
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20)


# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------


class ReportForm(forms.ModelForm):
    """A report sent up: to an area above the sender's, with photos or PDFs."""

    to_area = forms.ModelChoiceField(
        label=pgettext_lazy("report", "Send to"), queryset=Area.objects.none()
    )
    files = PhotosField(label=_("Photos or PDF documents (up to 10 MB each)"), required=False)

    class Meta:
        model = Report
        fields = ["kind", "title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args, destinations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_area"].queryset = Area.objects.filter(
            pk__in=[area.pk for area in destinations]
        ).order_by("-code")
        if destinations:
            self.fields["to_area"].initial = destinations[0].pk
        self.order_fields(["to_area", "kind", "title", "body", "files"])


class ReportDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Report.Decision.ADOPTED, Report.Decision.ADOPTED.label),
            (Report.Decision.DECLINED, Report.Decision.DECLINED.label),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when it is not adopted."),
    )


def _year_choices() -> list[tuple[int, int]]:
    this_year = timezone.localdate().year
    return [(year, year) for year in range(this_year, this_year - 6, -1)]


def _quarter_choices() -> list[tuple[str, str]]:
    from django.utils.translation import gettext

    return [
        ("", gettext("Whole year")),
        *((str(q), gettext("Quarter %(q)s") % {"q": q}) for q in range(1, 5)),
    ]


class ReportPeriodForm(FilterForm):
    """A year, or one quarter of it, by the reports' days (sent, or decided for adoptions)."""

    year = forms.TypedChoiceField(
        label=_("Year"), coerce=int, choices=_year_choices, required=False, widget=CompactSelect
    )
    quarter = forms.TypedChoiceField(
        label=_("Quarter"),
        coerce=int,
        empty_value=None,
        choices=_quarter_choices,
        required=False,
        widget=CompactSelect,
    )

    def period(self) -> tuple[datetime.date, datetime.date]:
        """The first day of the period and the first day after it."""
        data = self.cleaned_data if self.is_valid() else {}
        year = data.get("year") or timezone.localdate().year
        quarter = data.get("quarter")
        if quarter:
            start = datetime.date(year, 3 * quarter - 2, 1)
            end = (
                datetime.date(year + 1, 1, 1)
                if quarter == 4
                else datetime.date(year, 3 * quarter + 1, 1)
            )
            return start, end
        return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)


class ReportFilterForm(ReportPeriodForm):
    """The report list's filters: kind, decision, and a period of sending."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", _("All")), *Report.Kind.choices],
        required=False,
        widget=CompactSelect,
    )
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("", _("All")), *Report.Decision.choices],
        required=False,
        widget=CompactSelect,
    )
    box = forms.CharField(required=False, widget=forms.HiddenInput)

    field_order = ["kind", "decision", "year", "quarter"]


# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------


def _publisher_field(field, user, instance) -> None:
    """The district or streets of the user's area still in use; theirs to start with."""
    field.queryset = (
        Area.objects.visible_to(user).current().filter(level__in=PUBLISHING_LEVELS).order_by("code")
    )
    field.label_from_instance = lambda item: item.name
    if user.area_id and not instance.pk:
        field.initial = user.area_id


class MaterialSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("kind"), required=False, choices=[("", _("All")), *Material.Kind.choices]
    )
    to_read = forms.BooleanField(label=_("Waiting for my read receipt"), required=False)

    @property
    def in_use_besides_search(self) -> bool:
        return bool(self.data.get("kind") or self.data.get("to_read"))

    def clean_q(self):
        # PostgreSQL refuses a NUL in text; nothing contains one.
        return self.cleaned_data["q"].replace("\x00", "").strip()


class MaterialForm(forms.ModelForm):
    files = PhotosField(label=_("Add photos or PDF documents (up to 10 MB each)"), required=False)

    class Meta:
        model = Material
        fields = ["area", "kind", "title", "body", "receipt_asked"]
        widgets = {"body": forms.Textarea(attrs={"rows": 12})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _publisher_field(self.fields["area"], user, self.instance)

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class TrainingForm(forms.ModelForm):
    class Meta:
        model = Training
        fields = ["area", "title", "date", "hours", "place", "materials", "notes"]
        widgets = {
            "date": DateInput(),
            "materials": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _publisher_field(self.fields["area"], user, self.instance)
        self.fields["hours"].widget.attrs.update(step="0.5", min="0.5", max="24")
        materials = self.fields["materials"]
        # Training material, and whatever the session already lists.
        listed = Q(pk__in=self.instance.materials.values("pk")) if self.instance.pk else Q()
        materials.queryset = Material.objects.visible_to(user).filter(
            Q(kind=Material.Kind.TRAINING) | listed
        )
        materials.required = False

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name != "materials"}


class AttendanceForm(forms.Form):
    """The session's attendees, ticked on a list of the accounts that may attend, each with
    the hours they stayed (`hours_<account id>`; the session's when left empty)."""

    users = forms.ModelMultipleChoiceField(
        label=_("Attendees"), queryset=None, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = choices

    def clean(self):
        cleaned = super().clean()
        hours = {}
        for user in cleaned.get("users") or []:
            raw = self.data.get(f"hours_{user.pk}", "").strip()
            if not raw:
                continue
            try:
                hours[user.pk] = Decimal(raw)
            except InvalidOperation:
                self.add_error("users", _("Write the hours as a number, such as 2.5."))
                break
        cleaned["hours"] = hours
        return cleaned


# -- end of library and training --
