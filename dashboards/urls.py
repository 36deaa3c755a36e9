"""The home page (each role's dashboard) and the reports under /reports/.

Included at the root by the kernel's URLconf by name, so the kernel imports no app above it.
"""

from django.urls import include, path

from . import views

reports = (
    [
        path("", views.report_list, name="reports"),
        path("<slug:key>.xlsx", views.report_download, name="report"),
        path("compare/", views.compare, name="compare"),
        path("compare/export.xlsx", views.compare_export, name="compare_export"),
    ],
    "dashboards",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("reports/", include(reports)),
]
