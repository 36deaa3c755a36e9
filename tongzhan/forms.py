"""Forms of the kernel's own pages: the area tree kept by administrators."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Area
from .services import AREA_PLACE, area_place_fixed


class AreaForm(forms.ModelForm):
    """An area's name and place; saved by `area_create` / `area_update`, which hold the rules.

    The parent area is chosen among those the administrator manages. Where the place may not
    change (`area_place_fixed`), its fields are shown read-only with the reason.
    """

    class Meta:
        model = Area
        fields = ["name", "code", "level", "parent"]
        help_texts = {
            "code": _(
                "District 6 digits, street 9, community 12; a grid extends its community's code."
            ),  # fmt: skip
        }

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        parent.queryset = Area.objects.visible_to(actor).exclude(level=Area.Level.GRID)
        parent.label_from_instance = lambda area: f"{area.code} {area.name}"
        self.place_fixed = (
            area_place_fixed(actor=actor, area=self.instance) if self.instance.pk else ""
        )
        if self.place_fixed:
            for name in AREA_PLACE:
                self.fields[name].disabled = True
