"""Admin for the registry. It reads through `visible_to` and writes through the services.

Full ID numbers and phones are not shown here: like every page, the admin shows them masked,
and the one way to see them is the member page's reveal, which the audit log records."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import services
from .forms import MemberForm
from .models import Category, Ethnicity, Member, MemberChange, PoliticalStatus, change_labels

ADMIN_SOURCE = "管理后台"


class ReferenceAdmin(admin.ModelAdmin):
    """Reference data comes from the national standards through migrations."""

    list_display = ["code", "name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(Category, ReferenceAdmin)
admin.site.register(Ethnicity, ReferenceAdmin)
admin.site.register(PoliticalStatus, ReferenceAdmin)


class MemberChangeInline(admin.TabularInline):
    model = MemberChange
    fields = ["at", "action", "actor", "source", "changed"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=_("changes"))
    def changed(self, obj):
        """One line a field, "label: before → after", as the member page shows them."""
        labels = change_labels()
        return format_html_join(
            mark_safe("<br>"),
            "{}：{} → {}",
            (
                (
                    capfirst(labels.get(row["field"], row["field"])),
                    row.get("old") or "—",
                    row.get("new") or "—",
                )
                for row in obj.changes
            ),
        )

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    form = MemberForm
    list_display = ["name", "community", "id_number_masked", "phone_masked", "status"]
    list_filter = ["status", "is_representative", "categories"]
    list_select_related = ["community"]
    search_fields = ["name"]
    inlines = [MemberChangeInline]
    readonly_fields = ["full_numbers"]

    @admin.display(description=_("Full ID number and phone"))
    def full_numbers(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("members:detail", args=[obj.pk]),
            gettext("Shown on the member's page on request, and recorded in the audit log"),
        )

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # The admin leaves out many-to-many fields with their own link model; the
        # categories' link model has no extra fields, so the plain field edits it.
        if db_field.name == "categories":
            return db_field.formfield(**{"widget": forms.CheckboxSelectMultiple, **kwargs})
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or Member.objects.editable_by(request.user).filter(pk=obj.pk).exists()

    def has_delete_permission(self, request, obj=None):
        # People leave the registry by a status change, which keeps their history.
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class ScopedMemberForm(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, user=request.user, request=request, **inner)
                if self.instance.pk:
                    # Empty unless a new number is typed; the page shows the masked one.
                    for name, masked in (
                        ("id_number", self.instance.id_number_masked),
                        ("phone", self.instance.phone_masked),
                    ):
                        field = self.fields[name]
                        self.initial[name] = ""
                        field.required = False
                        field.widget.attrs["placeholder"] = masked
                        field.help_text = gettext(
                            "Now %(masked)s. Leave empty to keep it; type a new one to change it."
                        ) % {"masked": masked or "-"}

            def clean_id_number(self):
                if self.instance.pk and not self.cleaned_data.get("id_number"):
                    self.cleaned_data["id_number"] = self.instance.id_number
                return super().clean_id_number()

            def clean(self):
                cleaned = super().clean()
                if self.instance.pk and not self.errors:
                    services.member_check_version(
                        member=self.instance,
                        data=self.service_data(cleaned),
                        version=cleaned.get("opened_version"),
                    )
                return cleaned

            def clean_phone(self):
                if self.instance.pk and not self.cleaned_data.get("phone"):
                    return self.instance.phone
                clean = getattr(super(), "clean_phone", None)
                return clean() if clean else self.cleaned_data.get("phone")

        return ScopedMemberForm

    def save_model(self, request, obj, form, change):
        data = form.service_data()
        if change:
            services.member_update(
                actor=request.user,
                member=obj,
                data=data,
                version=form.cleaned_data.get("opened_version"),
                source=ADMIN_SOURCE,
                request=request,
            )
        else:
            created = services.member_create(
                actor=request.user, data=data, source=ADMIN_SOURCE, request=request
            )
            # The admin goes on with `obj` (its log entry, its redirect).
            obj.pk, obj._state.adding = created.pk, False

    def save_related(self, request, form, formsets, change):
        # The services already saved the categories; only the (read-only) inline remains.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
