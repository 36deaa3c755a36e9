"""Admin for areas, accounts and the audit log, scoped like every other page. Its site lets
superusers only in (tongzhan.admin_site); administrators work on the application's pages.

One audit writer: an admin page whose model has a service (areas, accounts, groups, members,
activities, activity types) saves through it, and the service writes the audit line; evaluation
templates are only looked at there (their pages are the one path). Models without a service
(authenticators, login records) are edited only here; their admins take
`AuditedAdminMixin`, which writes the line when the admin logs its addition, change or
deletion. An admin does one or the other, never both. Models kept only through their
services and shown here read-only take `ReadOnlyScopedAdmin`.
"""

import copy
import json

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import audit_record
from .forms import AccountFormMixin
from .models import Area, AuditEvent, User, accounts_visible_to
from .scoping import area_prefix
from .services import (
    AREA_FIELDS,
    AREA_PLACE,
    AUDITOR_GROUP,
    ROLE_GROUP_NAMES,
    account_errors,
    area_create,
    area_errors,
    area_update,
    group_delete,
    group_errors,
    group_save,
    user_create,
    user_set_password,
    user_update,
)


class AuditedAdminMixin:
    """For an admin-only model without a service: the one audit line of each addition,
    change and deletion, written when the admin logs it (after the related objects are
    saved, before a deletion)."""

    def audit_detail(self, obj) -> dict:
        return {}

    def _audit(self, request, action, obj, message) -> None:
        if isinstance(message, list):
            message = json.dumps(message)
        change = LogEntry(change_message=message or "").get_change_message()
        audit_record(
            actor=request.user,
            action=action,
            obj=obj,
            request=request,
            detail={"admin": True, "change": change[:500], **self.audit_detail(obj)},
        )

    def log_addition(self, request, obj, message):
        self._audit(request, AuditEvent.Action.CREATE, obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, AuditEvent.Action.UPDATE, obj, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, AuditEvent.Action.DELETE, obj, "")
        return super().log_deletions(request, queryset)


class ReadOnlyScopedAdmin(admin.ModelAdmin):
    """For a model kept on its pages through its app's services (visits and needs,
    organisations, resources ...): the admin shows it read-only, scoped like the pages, so
    that it never writes beside the service. `scoped(request, queryset)` narrows the list;
    the model's own `visible_to` unless a model scoped through another overrides it."""

    def scoped(self, request, queryset):
        return queryset.visible_to(request.user)

    def get_queryset(self, request):
        return self.scoped(request, super().get_queryset(request))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AreaForm(forms.ModelForm):
    """The service's rules (`area_errors`) shown beside the fields; `actor` is set per request."""

    actor: User

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            stored = Area.objects.get(pk=self.instance.pk)
            values = {field: cleaned.get(field, getattr(stored, field)) for field in AREA_PLACE}
        else:
            values = {field: cleaned.get(field) for field in AREA_PLACE}
        if values["code"] and values["level"]:
            _add_service_errors(self, area_errors(actor=self.actor, area=self.instance, **values))
        return cleaned


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    """Saved through `area_create` / `area_update`, which hold the rules and write the audit
    line; the parent area is chosen among the areas the administrator manages."""

    form = AreaForm
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            # Django checks a choice against every area otherwise, whatever the picker lists.
            kwargs["queryset"] = Area.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and area_prefix(request.user) == obj.code:
            # Its own area's place is not a limited administrator's (the service refuses too).
            return list(AREA_PLACE)
        return []

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        return type("ScopedAreaForm", (form_class,), {"actor": request.user})

    def has_delete_permission(self, request, obj=None):
        # Members and accounts hang on areas; an area is renamed, never deleted here.
        return False

    def save_model(self, request, obj, form, change):
        data = {
            field: form.cleaned_data[field] for field in AREA_FIELDS if field in form.cleaned_data
        }
        if change:
            area_update(actor=request.user, area=obj, data=data, request=request)
        else:
            created = area_create(actor=request.user, data=data, request=request)
            # The admin goes on with `obj` (its log entry, its redirect).
            obj.pk, obj._state.adding = created.pk, False


# -- Accounts ---------------------------------------------------------------------------------


def _add_service_errors(form, errors: dict) -> None:
    """The service's refusals beside the fields they concern (or above the form)."""
    for field, messages in errors.items():
        form.add_error(field if field in form.fields else None, messages)


class AccountCreationForm(AccountFormMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "last_name", "first_name", "role", "area"]

    def clean(self):
        cleaned = super().clean()
        if "role" in cleaned and "area" in cleaned:
            _add_service_errors(
                self,
                account_errors(
                    actor=self.actor, user=None, role=cleaned["role"], area=cleaned["area"]
                ),
            )
        return cleaned


class AccountChangeForm(AccountFormMixin, UserChangeForm):
    def clean(self):
        cleaned = super().clean()
        stored = User.objects.get(pk=self.instance.pk)
        _add_service_errors(
            self,
            account_errors(
                actor=self.actor,
                user=self.instance,
                role=cleaned.get("role", stored.role),
                area=cleaned.get("area", stored.area) if "area" in self.fields else stored.area,
                groups=cleaned.get("groups"),
                permissions=cleaned.get("user_permissions"),
            ),
        )
        return cleaned


class AccountPasswordResetForm(AdminPasswordChangeForm):
    """A password set by an administrator is changed by the owner at the next login. Saved by
    `user_set_password`, which writes the audit line; the admin gives the form its request."""

    request = None

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        # Accounts are disabled, not left without a password.
        self.fields.pop("usable_password", None)
        self.fields["password1"].required = self.fields["password2"].required = True

    def save(self, commit=True):
        return user_set_password(
            actor=self.request.user,
            user=self.user,
            password=self.cleaned_data["password1"],
            must_change=True,
            request=self.request,
        )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = AccountCreationForm
    form = AccountChangeForm
    change_password_form = AccountPasswordResetForm
    list_display = ["username", "get_full_name", "role", "area", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    list_select_related = ["area"]
    search_fields = ["username", "first_name", "last_name", "area__name"]
    autocomplete_fields = ["area"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Person"), {"fields": ["last_name", "first_name", "email"]}),
        (_("Role and area"), {"fields": ["role", "area", "is_active"]}),
        (
            _("Extra permissions"),
            {"fields": ["groups", "user_permissions"], "classes": ["collapse"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "fields": [
                    "username",
                    "last_name",
                    "first_name",
                    "role",
                    "area",
                    "password1",
                    "password2",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request) & accounts_visible_to(request.user)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and area_prefix(request.user):
            # Limited to an area: no rights beyond the role's.
            fieldsets = [entry for entry in fieldsets if "groups" not in entry[1]["fields"]]
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        fields = ["last_login", "date_joined"]
        if obj is not None and obj.pk == request.user.pk:
            # Nobody widens their own rights (the service refuses it too).
            fields += ["role", "area", "groups", "user_permissions"]
        elif obj is not None and obj.role == User.Role.AUDITOR:
            fields += ["role", "area"]
        return fields

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)

        class ScopedAccountForm(form_class):
            actor = request.user

            def __init__(self, *args, **inner):
                super().__init__(*args, **inner)
                self.limit_choices()

        return ScopedAccountForm

    def has_delete_permission(self, request, obj=None):
        # An account is disabled, never deleted: the audit log names it.
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:  # the initial password is the administrator's: the owner replaces it
            created = user_create(
                actor=request.user,
                username=data["username"],
                password=data["password1"],
                role=data["role"],
                area=data["area"],
                must_change_password=True,
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                request=request,
            )
            # The admin goes on with `obj` (its log entry, its redirect).
            obj.pk, obj._state.adding = created.pk, False
            return
        stored = User.objects.select_related("area").get(pk=obj.pk)
        user_update(
            actor=request.user,
            user=obj,
            role=data.get("role", stored.role),
            area=data.get("area", stored.area),
            fields={
                name: data[name]
                for name in ("username", "first_name", "last_name", "email", "is_active")
                if name in data
            },
            groups=data.get("groups"),
            permissions=data.get("user_permissions"),
            request=request,
        )

    def save_related(self, request, form, formsets, change):
        # The service set the groups and permissions; the form must not set them again.
        pass

    def user_change_password(self, request, id, form_url=""):
        # The form saves through the service, which needs who is asking: a copy of this
        # admin for this request carries it (the shared admin object is not per request).
        for_request = copy.copy(self)
        for_request.change_password_form = type(
            "AccountPasswordResetFormForRequest",
            (AccountPasswordResetForm,),
            {"request": request},
        )
        return DjangoUserAdmin.user_change_password(for_request, request, id, form_url)


# -- Groups (the roles' permissions) ------------------------------------------------------------


class GroupForm(forms.ModelForm):
    actor: User

    def clean(self):
        cleaned = super().clean()
        for message in group_errors(
            actor=self.actor,
            group=self.instance,
            permissions=cleaned.get("permissions") or [],
        ):
            self.add_error(None, message)
        return cleaned


class AccountGroupAdmin(GroupAdmin):
    """A role's permissions are changed here, through `group_save` (rules and audit line).
    The auditor's group is fixed (a migration sets it) and not listed."""

    form = GroupForm

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(name=AUDITOR_GROUP)

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        return type("ScopedGroupForm", (form_class,), {"actor": request.user})

    def has_change_permission(self, request, obj=None):
        # Groups apply in every area: not for an administrator limited to one.
        return super().has_change_permission(request, obj) and request.user.sees_everything

    def has_add_permission(self, request):
        return super().has_add_permission(request) and request.user.sees_everything

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.name in ROLE_GROUP_NAMES:
            return False
        return super().has_delete_permission(request, obj) and request.user.is_superuser

    def save_model(self, request, obj, form, change):
        pass  # saved with its permissions by the service, in save_related

    def save_related(self, request, form, formsets, change):
        group_save(
            actor=request.user,
            group=form.instance,
            permissions=form.cleaned_data.get("permissions") or [],
            request=request,
        )

    def delete_model(self, request, obj):
        group_delete(actor=request.user, group=obj, request=request)

    def delete_queryset(self, request, queryset):
        for group in queryset:
            group_delete(actor=request.user, group=group, request=request)


admin.site.unregister(Group)
admin.site.register(Group, AccountGroupAdmin)


# -- Authenticators and login attempts: no secret shown, every change audited --------------------


class SetUpFilter(admin.BooleanFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("set up")


class AuthenticatorAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Replaces django-otp's, which shows the secret key and its QR code: here an
    administrator sees who has an authenticator and removes a lost one (the owner sets up a
    new one at the next login), nothing else."""

    # django-otp names its fields in English only: the columns carry Chinese names here.
    list_display = ["account", "device_name", "is_confirmed", "created", "last_used"]
    list_filter = [("confirmed", SetUpFilter)]
    search_fields = ["user__username", "user__last_name"]
    fields = list_display
    readonly_fields = fields

    @admin.display(description=_("account"), ordering="user")
    def account(self, obj):
        return obj.user

    @admin.display(description=_("device name"), ordering="name")
    def device_name(self, obj):
        return obj.name

    @admin.display(description=_("set up"), boolean=True, ordering="confirmed")
    def is_confirmed(self, obj):
        return obj.confirmed

    @admin.display(description=_("set up at"), ordering="created_at")
    def created(self, obj):
        return obj.created_at

    @admin.display(description=_("last used at"), ordering="last_used_at")
    def last_used(self, obj):
        return obj.last_used_at

    def get_queryset(self, request):
        accounts = accounts_visible_to(request.user)
        return super().get_queryset(request).filter(user__in=accounts).select_related("user")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, AuthenticatorAdmin)


class LoginRecordAdminMixin(AuditedAdminMixin):
    """django-axes' records of logins: read, or deleted to unlock an account or an address
    before its time (audited); never edited."""

    def has_change_permission(self, request, obj=None):
        return False


for _model, _admin in (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
        admin.site.register(_model, type(_admin.__name__, (LoginRecordAdminMixin, _admin), {}))


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only through the application."""

    list_display = ["at", "username", "action", "object_type", "object_repr", "ip"]
    list_filter = ["action", "object_type"]
    search_fields = ["username", "object_repr", "object_id"]
    date_hierarchy = "at"

    def has_view_permission(self, request, obj=None):
        # Separation of duties: only auditors read the log (a superuser holds every
        # permission, so the auditor's group decides, not the permission).
        return request.user.is_auditor

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
