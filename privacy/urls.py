from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("requests/", views.request_list, name="requests"),
    path("requests/new/<int:member_pk>/", views.request_create, name="request_create"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/answer/", views.request_answer, name="request_answer"),
    path("requests/<int:pk>/refuse/", views.request_refuse, name="request_refuse"),
    path("requests/<int:pk>/copy/", views.request_copy, name="request_copy"),
    path("retention/", views.retention, name="retention"),
    path("retention/due/", views.due_list, name="due"),
    path("retention/approve/", views.approve, name="approve"),
    path("retention/approvals/<int:pk>/", views.approval_detail, name="approval"),
]
