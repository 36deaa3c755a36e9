from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from members.models import Member
from organisations.models import Place
from tongzhan.admin import ReadOnlyScopedAdmin

from . import services
from .models import Activity, ActivityType, Need, Visit


class ActivityAdminForm(forms.ModelForm):
    """The admin leaves out many-to-many fields with their own link model; this adds it back."""

    participants = forms.ModelMultipleChoiceField(
        label=_("participating members"),
        queryset=Member.objects.none(),
        required=False,
        widget=AutocompleteSelectMultiple(Activity._meta.get_field("participants"), admin.site),
    )

    class Meta:
        model = Activity
        fields = [*services.HISTORY_FIELDS]


@admin.register(ActivityType)
class ActivityTypeAdmin(admin.ModelAdmin):
    """Saved through `activity_type_create` / `activity_type_update`, like the application's
    pages, which write the audit line; the editable list saves through them too."""

    list_display = ["name", "code", "serves_people", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]

    def has_delete_permission(self, request, obj=None):
        # Activities, their tallies and indicators point at a type: it is put out of use.
        return False

    def save_model(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name]
            for name in services.ACTIVITY_TYPE_FIELDS
            if name in form.cleaned_data
        }
        if change:
            services.activity_type_update(
                actor=request.user, activity_type=obj, data=data, request=request
            )
        else:
            saved = services.activity_type_create(actor=request.user, data=data, request=request)
            obj.pk, obj._state.adding = saved.pk, False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """Scoped like the pages; saves go through the services, so history is kept."""

    list_display = ["title", "type", "starts_at", "area", "people_served"]
    list_filter = ["type"]
    search_fields = ["title", "place", "organiser"]
    date_hierarchy = "starts_at"
    form = ActivityAdminForm

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        visible = Member.objects.visible_to(request.user)
        initial = list(obj.participants.all()) if obj is not None else []
        places = Place.objects.visible_to(request.user)

        class ScopedForm(form):
            # Only members the administrator may see can be picked (the autocomplete is
            # scoped by MemberAdmin too; this also refuses a posted id from outside).
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.fields["participants"].queryset = visible
                self.fields["participants"].initial = initial
                # The administrator's places only; the service refuses any other.
                self.fields["venue"].queryset = places

        return ScopedForm

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).select_related("type", "area")

    def has_change_permission(self, request, obj=None):
        if (
            obj is not None
            and not Activity.objects.editable_by(request.user).filter(pk=obj.pk).exists()
        ):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Deleting would bypass the services: no history entry, and the members' last contact
        # and the dashboards' numbers would keep the activity. A wrong record is corrected.
        return False

    def save_model(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name]
            for name in services.HISTORY_FIELDS
            if name in form.cleaned_data
        }
        participants = form.cleaned_data.get("participants", [])
        try:
            if change:
                services.activity_update(
                    actor=request.user,
                    activity=obj,
                    data=data,
                    participants=participants,
                    request=request,
                )
            else:
                saved = services.activity_create(
                    actor=request.user, data=data, participants=participants, request=request
                )
                obj.pk, obj._state.adding = saved.pk, False
        except ValidationError as error:
            raise ValidationError(error.messages) from error

    def save_related(self, request, form, formsets, change):
        # The participants were set by the service; the form must not set them again.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


# Visits and needs are recorded and changed on their pages (through the services); the admin
# shows them, within the administrator's scope.
@admin.register(Visit)
class VisitAdmin(ReadOnlyScopedAdmin):
    list_display = ["date", "community", "way", "staff"]
    list_filter = ["way"]
    date_hierarchy = "date"


@admin.register(Need)
class NeedAdmin(ReadOnlyScopedAdmin):
    list_display = ["member", "kind", "status", "due_date", "closed_on", "community"]
    list_filter = ["status", "kind"]
    list_select_related = ["member", "community"]
