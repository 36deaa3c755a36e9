from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

admin.site.site_header = settings.ADMIN_SITE_HEADER
admin.site.site_title = settings.ADMIN_SITE_HEADER

urlpatterns = [
    # The home page is the dashboard; the kernel names the app above it only as a string.
    path("", include("dashboards.urls")),
    path("login/", views.LoginView.as_view(), name="login"),
    path("health/", views.health, name="health"),
    path("two-factor/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("audit/", views.AuditLogView.as_view(), name="audit"),
    path("audit/export/", views.AuditExportView.as_view(), name="audit_export"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("manage/areas/", views.AreaListView.as_view(), name="area_list"),
    path("manage/areas/new/", views.AreaCreateView.as_view(), name="area_create"),
    path("manage/areas/<int:pk>/edit/", views.AreaUpdateView.as_view(), name="area_update"),
    path("manage/areas/<int:pk>/merge/", views.area_merge_view, name="area_merge"),
    path("manage/areas/<int:pk>/retire/", views.area_retire_view, name="area_retire"),
    path("manage/areas/<int:pk>/split/", views.area_split_view, name="area_split"),
    path("manage/", views.manage, name="manage"),
    path("manage/accounts/", views.AccountListView.as_view(), name="account_list"),
    path("manage/accounts/new/", views.AccountCreateView.as_view(), name="account_create"),
    path("manage/accounts/<int:pk>/", views.AccountDetailView.as_view(), name="account_detail"),
    path(
        "manage/accounts/<int:pk>/edit/", views.AccountUpdateView.as_view(), name="account_update"
    ),
    path(
        "manage/accounts/<int:pk>/password/",
        views.AccountPasswordView.as_view(),
        name="account_password",
    ),
    path("manage/accounts/<int:pk>/active/", views.account_active, name="account_active"),
    path(
        "manage/accounts/<int:pk>/authenticator/",
        views.account_authenticator,
        name="account_authenticator",
    ),
    path("manage/accounts/<int:pk>/unlock/", views.account_unlock, name="account_unlock"),
    path("downloads/", views.DownloadListView.as_view(), name="download_list"),
    path("downloads/<int:pk>/", views.download_detail, name="download_detail"),
    path("downloads/<int:pk>/status/", views.download_status, name="download_status"),
    path("downloads/<int:pk>/file/", views.download_file, name="download_file"),
    path("downloads/<int:pk>/delete/", views.download_remove, name="download_delete"),
    path("members/", include("members.urls")),
    path("organisations/", include("organisations.urls")),
    path("commendations/", include("commendations.urls")),
    path("activities/", include("activities.urls")),
    path("liaison/", include("liaison.urls")),
    path("resources/", include("resources.urls")),
    path("assessment/", include("assessment.urls")),
    path("followup/", include("followup.urls")),
    path("privacy/", include("privacy.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler500 = "tongzhan.views.server_error"
