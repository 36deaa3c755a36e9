from django.urls import path

from . import views

app_name = "liaison"
urlpatterns = []

# -- Notices (通知公告) ----------------------------------------------------------------------
urlpatterns += [
    path("notices/", views.NoticeListView.as_view(), name="notice_list"),
    path("notices/new/", views.NoticeCreateView.as_view(), name="notice_create"),
    path("notices/<int:pk>/", views.NoticeDetailView.as_view(), name="notice_detail"),
    path("notices/<int:pk>/reply/", views.notice_reply, name="notice_reply"),
    path("notices/<int:pk>/status/", views.NoticeStatusView.as_view(), name="notice_status"),
    path("notices/<int:pk>/remind/", views.notice_remind, name="notice_remind"),
    path("notices/<int:pk>/withdraw/", views.notice_withdraw, name="notice_withdraw"),
    path("notices/<int:pk>/files/<int:file_pk>/", views.notice_file, name="notice_file"),
]
# -- end of notices --


# -- Tasks and supervision (任务督办) --------------------------------------------------------
urlpatterns += [
    path("tasks/", views.TaskListView.as_view(), name="task_list"),
    path("tasks/new/", views.TaskCreateView.as_view(), name="task_create"),
    path("tasks/supervision/", views.TaskSupervisionView.as_view(), name="task_supervision"),
    path("tasks/<int:pk>/", views.TaskDetailView.as_view(), name="task_detail"),
    path("tasks/<int:pk>/export/", views.task_export, name="task_export"),
    path("tasks/<int:pk>/withdraw/", views.task_withdraw, name="task_withdraw"),
    path("tasks/<int:pk>/files/<int:file_pk>/", views.task_file, name="task_file"),
    path("tasks/copies/<int:pk>/", views.task_copy_detail, name="task_copy"),
    path("tasks/copies/<int:pk>/receive/", views.task_copy_receive, name="task_copy_receive"),
    path("tasks/copies/<int:pk>/start/", views.task_copy_start, name="task_copy_start"),
    path("tasks/copies/<int:pk>/report/", views.task_copy_report, name="task_copy_report"),
    path("tasks/copies/<int:pk>/approve/", views.task_copy_approve, name="task_copy_approve"),
    path("tasks/copies/<int:pk>/return/", views.task_copy_return, name="task_copy_return"),
    path("tasks/copies/<int:pk>/files/<int:file_pk>/", views.task_copy_file, name="task_copy_file"),
]
# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------
urlpatterns += [
    path("reports/", views.ReportListView.as_view(), name="report_list"),
    path("reports/new/", views.ReportCreateView.as_view(), name="report_create"),
    path("reports/counts/", views.ReportCountsView.as_view(), name="report_counts"),
    path("reports/<int:pk>/", views.ReportDetailView.as_view(), name="report_detail"),
    path("reports/<int:pk>/decide/", views.report_decide, name="report_decide"),
    path("reports/<int:pk>/withdraw/", views.report_withdraw, name="report_withdraw"),
    path("reports/<int:pk>/files/<int:file_pk>/", views.report_file, name="report_file"),
]
# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------
urlpatterns += [
    path("library/", views.MaterialListView.as_view(), name="library_list"),
    path("library/new/", views.MaterialCreateView.as_view(), name="library_create"),
    path("library/<int:pk>/", views.MaterialDetailView.as_view(), name="library_detail"),
    path("library/<int:pk>/edit/", views.MaterialUpdateView.as_view(), name="library_update"),
    path("library/<int:pk>/receipts/", views.material_receipts, name="library_receipts"),
    path("library/<int:pk>/files/<int:file_pk>/", views.material_file, name="library_file"),
    path(
        "library/<int:pk>/files/<int:file_pk>/remove/",
        views.material_file_remove,
        name="library_file_remove",
    ),
    path("training/", views.TrainingListView.as_view(), name="training_list"),
    path("training/new/", views.TrainingCreateView.as_view(), name="training_create"),
    path("training/hours/", views.TrainingHoursView.as_view(), name="training_hours"),
    path("training/streets/", views.StreetHoursView.as_view(), name="training_street_hours"),
    path(
        "training/streets/export/",
        views.street_hours_export,
        name="training_street_hours_export",
    ),
    path("training/<int:pk>/", views.TrainingDetailView.as_view(), name="training_detail"),
    path("training/<int:pk>/edit/", views.TrainingUpdateView.as_view(), name="training_update"),
    path("training/<int:pk>/attendance/", views.training_attendance, name="training_attendance"),
]
# -- end of library and training --


# -- What waits on me, and the way in
urlpatterns += [
    path("", views.index, name="index"),
    path("todo/", views.todo_list, name="todo"),
]
