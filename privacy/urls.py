from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("retention/", views.retention, name="retention"),
    path("retention/due/", views.due_list, name="due"),
    path("retention/approve/", views.approve, name="approve"),
    path("retention/approvals/<int:pk>/", views.approval_detail, name="approval"),
]
