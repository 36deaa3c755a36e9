"""Organisations, memberships and places in the admin: shown read-only, within the
administrator's scope. They are kept on their pages through `organisations.services`, which
check the rules (a sub-group's parent, one open membership, the area's levels) and write the
audit line; an admin save beside them would be a second writer. Phones show masked only."""

from django.contrib import admin

from tongzhan.admin import ReadOnlyScopedAdmin

from .models import Membership, Organisation, Place


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyScopedAdmin):
    list_display = ["name", "kind", "area", "contact_name", "contact_phone_masked", "is_active"]
    list_filter = ["kind", "is_active"]
    list_select_related = ["area"]
    search_fields = ["name", "credit_code"]
    # Not the phone itself: its masked copy, as on the pages.
    fields = [
        "name", "kind", "parent", "credit_code", "area", "address", "contact_member",
        "contact_name", "contact_phone_masked", "notes", "is_active", "created_at", "updated_at",
    ]  # fmt: skip


@admin.register(Membership)
class MembershipAdmin(ReadOnlyScopedAdmin):
    list_display = ["member", "organisation", "role", "joined_on", "left_on"]
    list_select_related = ["member", "organisation"]
    search_fields = ["member__name", "organisation__name", "role"]
    fields = ["member", "organisation", "role", "joined_on", "left_on"]


@admin.register(Place)
class PlaceAdmin(ReadOnlyScopedAdmin):
    list_display = ["name", "kind", "area", "manager_name", "manager_phone_masked", "is_active"]
    list_filter = ["kind", "is_active"]
    list_select_related = ["area"]
    search_fields = ["name"]
    fields = [
        "name", "kind", "area", "address", "opening_hours", "manager_name",
        "manager_phone_masked", "notes", "is_active", "created_at", "updated_at",
    ]  # fmt: skip
