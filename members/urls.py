from django.urls import path

from . import import_views, print_views, representative_views, views

app_name = "members"
urlpatterns = [
    path("", views.MemberListView.as_view(), name="list"),
    path("new/", views.MemberCreateView.as_view(), name="create"),
    path("<int:pk>/", views.MemberDetailView.as_view(), name="detail"),
    path("<int:pk>/print.pdf", print_views.member_print, name="print"),
    path("<int:pk>/photo/", print_views.member_photo, name="photo"),
    path("<int:pk>/photo/upload/", print_views.member_photo_upload, name="photo_upload"),
    path("<int:pk>/photo/remove/", print_views.member_photo_remove, name="photo_remove"),
    path("print.pdf", print_views.community_print, name="community_print"),
    path("<int:pk>/edit/", views.MemberUpdateView.as_view(), name="update"),
    path("<int:pk>/relatives/new/", views.RelativeCreateView.as_view(), name="relative_add"),
    path("relatives/<int:pk>/edit/", views.RelativeUpdateView.as_view(), name="relative_update"),
    path("relatives/<int:pk>/remove/", views.relative_remove, name="relative_remove"),
    # The representative's file (issue 18): political arrangements and duty records.
    path(
        "<int:pk>/arrangements/new/",
        representative_views.ArrangementCreateView.as_view(),
        name="arrangement_add",
    ),
    path(
        "arrangements/<int:pk>/edit/",
        representative_views.ArrangementUpdateView.as_view(),
        name="arrangement_update",
    ),
    path(
        "arrangements/<int:pk>/end/",
        representative_views.ArrangementEndView.as_view(),
        name="arrangement_end",
    ),
    path(
        "arrangements/<int:pk>/remove/",
        representative_views.arrangement_remove,
        name="arrangement_remove",
    ),
    path("<int:pk>/duties/new/", representative_views.DutyCreateView.as_view(), name="duty_add"),
    path(
        "duties/<int:pk>/edit/", representative_views.DutyUpdateView.as_view(), name="duty_update"
    ),
    path("duties/<int:pk>/remove/", representative_views.duty_remove, name="duty_remove"),
    # Admission and exit (凡进必评, 有进有出, issue 18).
    path(
        "<int:pk>/nominate/",
        representative_views.NominationCreateView.as_view(),
        name="nominate",
    ),
    path(
        "nominations/<int:pk>/withdraw/",
        representative_views.nomination_withdraw,
        name="nomination_withdraw",
    ),
    path(
        "representatives/register/",
        representative_views.representative_register,
        name="representative_register",
    ),
    path(
        "representatives/register.xlsx",
        representative_views.representative_register_export,
        name="representative_register_export",
    ),
    path("<int:pk>/status/", views.MemberStatusView.as_view(), name="status"),
    path("<int:pk>/transfer/", views.MemberTransferView.as_view(), name="transfer"),
    path("duplicates/", views.duplicate_list, name="duplicates"),
    path("<int:pk>/merge/<int:other>/", views.member_merge, name="merge"),
    path("merges/<int:pk>/undo/", views.member_merge_undo, name="merge_undo"),
    path("transfers/", views.transfer_list, name="transfers"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer_detail"),
    path("transfers/<int:pk>/accept/", views.transfer_accept, name="transfer_accept"),
    path("transfers/<int:pk>/decline/", views.transfer_decline, name="transfer_decline"),
    path("transfers/<int:pk>/withdraw/", views.transfer_withdraw, name="transfer_withdraw"),
    path("export/", views.member_export, name="export"),
    path("template/", views.member_template, name="template"),
    path("imports/", import_views.ImportListView.as_view(), name="import_list"),
    path("imports/new/", import_views.ImportCreateView.as_view(), name="import_create"),
    path("imports/<int:pk>/", import_views.ImportDetailView.as_view(), name="import_detail"),
    path("imports/<int:pk>/status/", import_views.import_status, name="import_status"),
    path(
        "imports/<int:pk>/columns/",
        import_views.ImportColumnsView.as_view(),
        name="import_columns",
    ),
    path("imports/<int:pk>/confirm/", import_views.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/cancel/", import_views.import_cancel, name="import_cancel"),
    path("imports/<int:pk>/refused.xlsx", import_views.import_refused, name="import_refused"),
]
