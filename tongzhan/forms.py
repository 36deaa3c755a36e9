"""Forms of the kernel's own pages: the accounts and the area tree kept by administrators,
and the account forms the Django admin shares. They offer only the choices an administrator may
make; the rules themselves are `services.account_errors` and `services.area_errors`, whose
refusals the views put beside the fields."""

from django import forms
from django.contrib.auth.forms import SetPasswordForm, UserCreationForm
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Area, User, short_code
from .scoping import area_prefix
from .services import (
    AREA_PLACE,
    ROLE_GROUP_NAMES,
    area_merge_targets,
    area_place_fixed,
    split_words,
)
from .widgets import CompactSelect

# What the role asks of the area (User.ROLE_AREA_LEVEL, which User.clean applies).
ROLE_AREA_HELP = _(
    "A community committee member works in a community, a street officer in a street, the "
    "district department in a district; a system administrator administers the area given "
    "(all areas if none)."
)


def area_label(area: Area) -> str:
    """An area as a picker lists it: indented under its parent, so its level shows."""
    indent = {"district": "", "street": "　", "community": "　　", "grid": "　　　"}
    return f"{indent.get(area.level, '')}{area.name}"


class AccountFormMixin:
    """The choices an administrator may make: areas within theirs (required if they are
    limited to one), no auditor role (granted on the command line), extra groups other than
    the roles' (a role's group follows the role)."""

    actor: User

    def limit_choices(self):
        roles = self.fields.get("role")
        if roles is not None and not roles.disabled:
            roles.choices = [c for c in roles.choices if c[0] != User.Role.AUDITOR]
        area = self.fields.get("area")
        if area is not None and not area.disabled:
            area.queryset = Area.objects.visible_to(self.actor).current()
            area.required = bool(area_prefix(self.actor))
        groups = self.fields.get("groups")
        if groups is not None and not groups.disabled:
            groups.queryset = Group.objects.exclude(name__in=ROLE_GROUP_NAMES)
            if self.instance.pk:
                self.initial["groups"] = list(
                    self.instance.groups.exclude(name__in=ROLE_GROUP_NAMES)
                )


class _AccountPageFields:
    """The role and area fields as the application's pages show them: the areas indented by
    level (grids are not an account's area), the rule of role and area said beside them."""

    def page_fields(self):
        area = self.fields.get("area")
        if area is not None:
            area.widget = CompactSelect()
            area.label_from_instance = area_label
            if not area.disabled:
                area.queryset = area.queryset.exclude(level=Area.Level.GRID)
            area.widget.choices = area.choices
            area.help_text = ROLE_AREA_HELP
            area.label = pgettext_lazy("of an account", "Area")
        role = self.fields.get("role")
        if role is not None:
            role.widget = CompactSelect(choices=role.choices)


class AccountCreateForm(_AccountPageFields, AccountFormMixin, UserCreationForm):
    """A new account: who, role, area, and an initial password typed twice (the password
    validators apply), which its owner changes at the first login."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "last_name", "first_name", "role", "area"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.limit_choices()
        self.page_fields()
        self.fields["password1"].label = _("Initial password")


class AccountUpdateForm(_AccountPageFields, AccountFormMixin, forms.ModelForm):
    """Name, e-mail, role and area. Nobody changes their own role or area, and an auditor's
    role is changed on the command line only: those fields are then shown, not offered."""

    class Meta:
        model = User
        fields = ["last_name", "first_name", "email", "role", "area"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        if self.instance.pk == actor.pk or self.instance.role == User.Role.AUDITOR:
            self.fields["role"].disabled = self.fields["area"].disabled = True
        self.limit_choices()
        self.page_fields()


class AccountPasswordForm(SetPasswordForm):
    """A temporary password typed twice (the password validators apply); the owner changes it
    at the next login."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Temporary password")
        self.fields["new_password2"].label = _("Temporary password again")


class AccountActiveForm(forms.Form):
    """Disable (0) or enable (1): the button says which, so a second press changes nothing."""

    active = forms.TypedChoiceField(
        choices=[("0", "0"), ("1", "1")], coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )  # fmt: skip


class AreaForm(forms.ModelForm):
    """An area's name and place; saved by `area_create` / `area_update`, which hold the rules.

    The parent area is chosen among those the administrator manages. Where the place may not
    change (`area_place_fixed`), its fields are shown read-only with the reason.
    """

    class Meta:
        model = Area
        fields = ["name", "official_name", "code", "level", "parent"]
        help_texts = {
            "official_name": _(
                "As the statistics bureau writes it (…社区居民委员会), where it differs from the "
                "name people use."
            ),
            "code": _(
                "The 12-digit official code, or district 6 digits, street 9, community 12; a "
                "grid extends its community's code."
            ),  # fmt: skip
        }

    def clean(self):
        cleaned = super().clean()
        # A district's or street's 12-digit official code is stored in its short form.
        code, level = cleaned.get("code"), cleaned.get("level")
        if code and level in (Area.Level.DISTRICT, Area.Level.STREET):
            cleaned["code"] = short_code(code)
        return cleaned

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        parent.queryset = Area.objects.visible_to(actor).current().exclude(level=Area.Level.GRID)
        parent.label_from_instance = lambda area: f"{area.official_code} {area.name}"
        self.place_fixed = (
            area_place_fixed(actor=actor, area=self.instance) if self.instance.pk else ""
        )
        if self.place_fixed:
            for name in AREA_PLACE:
                self.fields[name].disabled = True


class AreaSplitForm(forms.Form):
    """A new community split off one (拆分): its code and name, and what goes with it: grids
    of the community, and members by words of their address. `area_split` holds the rules."""

    code = forms.CharField(
        label=_("Code of the new community"),
        max_length=12,
        help_text=_("12 digits, under the same street."),
    )
    name = forms.CharField(label=_("Name of the new community"), max_length=100)
    grids = forms.ModelMultipleChoiceField(
        label=_("Grids that go to it"),
        queryset=Area.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each takes its members and accounts along."),
    )
    words = forms.CharField(
        label=_("Addresses that go to it"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Members of the community whose current address contains one of these words (小区, "
            "楼栋 or road names, separated by 、 or new lines) move to it."
        ),  # fmt: skip
    )

    def __init__(self, *args, area, **kwargs):
        super().__init__(*args, **kwargs)
        grids = self.fields["grids"]
        grids.queryset = Area.objects.current().filter(parent=area).order_by("code")
        grids.label_from_instance = lambda grid: f"{grid.name}（{grid.official_code}）"
        if not self.is_bound:
            self.initial["code"] = area.code[:9]

    def clean_words(self) -> list[str]:
        return split_words(self.cleaned_data["words"])


class AreaMergeForm(forms.Form):
    """The area another one is merged into (撤并入), among `area_merge_targets`."""

    target = forms.ModelChoiceField(label=_("Merge into"), queryset=Area.objects.none())

    def __init__(self, *args, area, actor, **kwargs):
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        target.queryset = area_merge_targets(area, actor)
        target.label_from_instance = lambda area: (
            f"{area.official_code} {area.name}"
            + (f"（{area.parent.name}）" if area.parent_id else "")
        )
