# -- Notices (通知公告) ----------------------------------------------------------------------
from django import forms  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402

from activities.forms import PhotosField, PhotosInput  # noqa: E402
from tongzhan.models import Area  # noqa: E402

from .models import Notice  # noqa: E402


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


class NoticeListFilter(forms.Form):
    unread = forms.BooleanField(label=_("Unread only"), required=False)


# -- end of notices --


# -- Tasks and supervision (任务督办) --------------------------------------------------------

# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------

# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------

# -- end of library and training --
