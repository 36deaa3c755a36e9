"""Administrators keep the evaluation templates here; periods and rounds have their pages.

Templates have no service: the admin's log writes their audit line (`AuditedAdminMixin`)."""

from django.contrib import admin

from tongzhan.admin import AuditedAdminMixin

from .models import EvaluationCategory, EvaluationItem, EvaluationTemplate


class CategoryInline(admin.TabularInline):
    model = EvaluationCategory
    extra = 1
    show_change_link = True  # its items are edited on the category's page


@admin.register(EvaluationTemplate)
class EvaluationTemplateAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "is_example"]
    inlines = [CategoryInline]


class ItemInline(admin.TabularInline):
    model = EvaluationItem
    extra = 1


@admin.register(EvaluationCategory)
class EvaluationCategoryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "template", "sort_order"]
    list_filter = ["template"]
    inlines = [ItemInline]
