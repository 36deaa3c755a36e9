from django.contrib import admin

from .models import Notice, NoticeCopy, NoticeFile, Task, TaskCopy

# -- Notices (通知公告) ----------------------------------------------------------------------


class NoticeCopyInline(admin.TabularInline):
    model = NoticeCopy
    fields = ["area", "read_at", "read_by", "replied_at", "replied_by", "reply", "reminded_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class NoticeFileInline(admin.TabularInline):
    model = NoticeFile
    fields = ["name", "kind", "size", "uploaded_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """Read only and scoped like the pages: a notice is sent, read and answered there
    (`liaison.services`), which keeps the receipts and the audit lines."""

    list_display = ["title", "area", "sent_at", "reply_by", "created_by"]
    search_fields = ["title"]
    date_hierarchy = "sent_at"
    readonly_fields = ["area", "title", "body", "reply_by", "created_by", "sent_at"]
    inlines = [NoticeCopyInline, NoticeFileInline]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user).select_related("area")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# -- end of notices --


# -- Tasks and supervision (任务督办) --------------------------------------------------------
# Tasks are sent and answered on their pages, through the services that keep each copy's
# history and audit it: the admin shows them, within the administrator's scope, read-only.


class TaskReadOnlyAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Task)
class TaskAdmin(TaskReadOnlyAdmin):
    list_display = ["title", "area", "deadline", "created_at"]
    list_select_related = ["area"]
    search_fields = ["title"]
    date_hierarchy = "created_at"


@admin.register(TaskCopy)
class TaskCopyAdmin(TaskReadOnlyAdmin):
    list_display = ["task", "area", "state", "holder", "reported_at"]
    list_filter = ["state"]
    list_select_related = ["task", "area", "holder"]
    exclude = ["activities", "visits", "needs"]


# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------

# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------

# -- end of library and training --
