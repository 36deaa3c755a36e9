from django.urls import path

from . import views

app_name = "dashboards"
urlpatterns = [
    path("", views.report_list, name="reports"),
    path("<slug:key>.xlsx", views.report_download, name="report"),
]
