"""Admin for areas, accounts and the audit log, scoped like every other page."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .audit import audit_record
from .models import Area, AuditEvent, User
from .scoping import area_prefix
from .services import user_set_role


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_delete_permission(self, request, obj=None):
        # Members and accounts hang on areas; an area is renamed, never deleted here.
        return False


class AccountCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "last_name", "first_name", "role", "area"]


class AccountPasswordResetForm(AdminPasswordChangeForm):
    """A password set by an administrator is changed by the owner at the next login."""

    def save(self, commit=True):
        user = super().save(commit=False)
        user.must_change_password = True
        user.password_changed_at = timezone.now()
        if commit:
            user.save()
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = AccountCreationForm
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
    readonly_fields = ["last_login", "date_joined"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        prefix = area_prefix(request.user)
        if prefix is None:
            return queryset.none()
        return queryset.filter(area__code__startswith=prefix) if prefix else queryset

    change_password_form = AccountPasswordResetForm

    def save_model(self, request, obj, form, change):
        if not change:  # the initial password is the administrator's: the owner replaces it
            obj.must_change_password = True
            obj.password_changed_at = timezone.now()
        super().save_model(request, obj, form, change)
        if not change:
            audit_record(actor=request.user, action=AuditEvent.Action.CREATE, obj=obj,
                         request=request, detail={"role": obj.role})  # fmt: skip
        elif set(form.changed_data) - {"role", "area", "groups", "user_permissions"}:
            audit_record(actor=request.user, action=AuditEvent.Action.UPDATE, obj=obj,
                         request=request, detail={"fields": sorted(form.changed_data)})  # fmt: skip
        if not change or {"role", "area"} & set(form.changed_data):
            user_set_role(actor=request.user, user=obj, role=obj.role, area=obj.area)

    def save_related(self, request, form, formsets, change):
        # Extra groups and permissions given by hand: a permission change, audited.
        super().save_related(request, form, formsets, change)
        if change and {"groups", "user_permissions"} & set(form.changed_data):
            user = form.instance
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.UPDATE,
                obj=user,
                request=request,
                detail={
                    "groups": sorted(user.groups.values_list("name", flat=True)),
                    "permissions": sorted(
                        f"{app}.{code}"
                        for app, code in user.user_permissions.values_list(
                            "content_type__app_label", "codename"
                        )
                    ),
                },
            )


class AuditedGroupAdmin(GroupAdmin):
    """A role's permissions changed in the admin are a permission change: audited."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "permissions" in form.changed_data or not change:
            group = form.instance
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
                obj=group,
                request=request,
                detail={
                    "permissions": sorted(
                        f"{app}.{code}"
                        for app, code in group.permissions.values_list(
                            "content_type__app_label", "codename"
                        )
                    )
                },
            )


admin.site.unregister(Group)
admin.site.register(Group, AuditedGroupAdmin)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only through the application."""

    list_display = ["at", "username", "action", "object_type", "object_repr", "ip"]
    list_filter = ["action", "object_type"]
    search_fields = ["username", "object_repr", "object_id"]
    date_hierarchy = "at"

    def has_view_permission(self, request, obj=None):
        # Separation of duties: only auditors read the log, administrators included (a
        # superuser holds every permission, so the role decides, not the permission).
        return request.user.is_auditor

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
