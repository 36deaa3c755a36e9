"""Evaluation templates are kept on the application's pages (/assessment/templates/), whose
services refuse to change a template a round scores against and write the audit line; here
superusers only look at them, so there is one path that changes them."""

from django.contrib import admin

from .models import EvaluationCategory, EvaluationItem, EvaluationTemplate


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CategoryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EvaluationCategory
    show_change_link = True  # its items are listed on the category's page


@admin.register(EvaluationTemplate)
class EvaluationTemplateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "is_example"]
    inlines = [CategoryInline]


class ItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EvaluationItem


@admin.register(EvaluationCategory)
class EvaluationCategoryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "template", "sort_order"]
    list_filter = ["template"]
    inlines = [ItemInline]
