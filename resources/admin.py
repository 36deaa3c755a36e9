"""Resources, community needs, matches and projects in the admin: shown read-only, within
the administrator's scope. They are recorded, matched, settled and moved on on their pages
through `resources.services`, which hold the rules (capacity, a need met by its quantity, a
project one stage at a time) and write the audit line; the admin does not write beside them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tongzhan.admin import ReadOnlyScopedAdmin

from .models import CommunityNeed, Match, Project, ProjectStep, Resource


@admin.register(Resource)
class ResourceAdmin(ReadOnlyScopedAdmin):
    list_display = ["title", "kind", "service", "area", "capacity", "valid_until"]
    list_filter = ["kind", "service"]
    list_select_related = ["area"]
    search_fields = ["title"]
    fields = [
        "title", "kind", "service", "member", "organisation", "description", "capacity",
        "served", "valid_until", "area", "recorded_by", "created_at", "updated_at",
    ]  # fmt: skip
    readonly_fields = ["served"]

    @admin.display(description=_("areas served"))
    def served(self, obj):
        return "、".join(area.name for area in obj.served_areas.order_by("code"))


@admin.register(CommunityNeed)
class CommunityNeedAdmin(ReadOnlyScopedAdmin):
    list_display = ["area", "kind", "service", "quantity", "status", "due_date", "closed_on"]
    list_filter = ["status", "kind"]
    list_select_related = ["area"]
    search_fields = ["description"]


@admin.register(Match)
class MatchAdmin(ReadOnlyScopedAdmin):
    list_display = ["resource", "area", "state", "people_served", "value", "matched_on"]
    list_filter = ["state"]
    list_select_related = ["resource", "area"]
    date_hierarchy = "matched_on"


class ProjectStepInline(admin.TabularInline):
    model = ProjectStep
    fields = ["stage", "date", "note", "recorded_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Project)
class ProjectAdmin(ReadOnlyScopedAdmin):
    list_display = ["name", "stage", "area", "industry", "amount_planned", "jobs"]
    list_filter = ["stage"]
    list_select_related = ["area"]
    search_fields = ["name", "industry"]
    inlines = [ProjectStepInline]


@admin.register(ProjectStep)
class ProjectStepAdmin(ReadOnlyScopedAdmin):
    list_display = ["project", "stage", "date", "recorded_by"]
    list_filter = ["stage"]
    list_select_related = ["project", "recorded_by"]
    date_hierarchy = "date"

    def scoped(self, request, queryset):
        return queryset.filter(project__in=Project.objects.visible_to(request.user))
