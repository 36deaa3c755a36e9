"""Campaigns and nominations in the admin: read-only and scoped like the pages. They are
kept through `commendations.services`, which check each step and write its history and audit
line; an admin save beside them would be a second writer. Contacts show masked only."""

from django.contrib import admin

from tongzhan.admin import ReadOnlyScopedAdmin

from .models import Campaign, Nomination


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyScopedAdmin):
    list_display = ["title", "kind", "year", "area", "deadline", "state"]
    list_filter = ["kind", "state", "year"]
    list_select_related = ["area"]
    search_fields = ["title"]


@admin.register(Nomination)
class NominationAdmin(ReadOnlyScopedAdmin):
    list_display = ["__str__", "community", "state", "submitted_at"]
    list_filter = ["state"]
    list_select_related = ["campaign", "community", "member"]
    search_fields = ["resident_name", "member__name", "campaign__title"]
    fields = [
        "campaign", "community", "member", "resident_name", "contact_masked", "notes", "deeds",
        "state", "submitted_by", "submitted_at", "street_opinion", "street_by", "street_at",
        "district_opinion", "district_by", "district_at",
    ]  # fmt: skip
