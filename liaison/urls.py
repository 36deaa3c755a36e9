from django.urls import path  # noqa: F401

from . import views  # noqa: F401

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
    path("notices/<int:pk>/files/<int:file_pk>/", views.notice_file, name="notice_file"),
]
# -- end of notices --


# -- Tasks and supervision (任务督办) --------------------------------------------------------
urlpatterns += []
# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------
urlpatterns += []
# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------
urlpatterns += []
# -- end of library and training --


# -- What waits on me, and the way in
urlpatterns += [
    path("", views.index, name="index"),
    path("todo/", views.todo_list, name="todo"),
]
