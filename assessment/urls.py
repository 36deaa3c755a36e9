from django.urls import path

from . import meeting_views, views

app_name = "assessment"
urlpatterns = [
    path("", views.period_list, name="list"),
    path("new/", views.period_create, name="create"),
    path("<int:pk>/", views.period_detail, name="detail"),
    path("<int:pk>/open/", views.period_step, {"step": "open"}, name="open"),
    path("<int:pk>/finalize/", views.period_step, {"step": "finalize"}, name="finalize"),
    path("<int:pk>/publish/", views.period_step, {"step": "publish"}, name="publish"),
    path("<int:pk>/reopen/", views.period_step, {"step": "reopen"}, name="reopen"),
    path(
        "<int:pk>/copy-indicators/",
        views.period_copy_indicators,
        name="copy_indicators",
    ),
    path("<int:pk>/results.xlsx", views.period_export, name="export"),
    path("<int:pk>/scores/", views.period_scores, name="scores"),
    path("<int:pk>/scores.xlsx", views.period_scores_download, name="scores_download"),
    path("<int:pk>/scores/upload/", views.period_scores_upload, name="scores_upload"),
    path(
        "<int:pk>/indicators/<int:indicator_pk>/",
        views.indicator_update,
        name="indicator_update",
    ),
    path(
        "<int:pk>/indicators/<int:indicator_pk>/remove/",
        views.indicator_remove,
        name="indicator_remove",
    ),
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/<int:pk>/", views.template_update, name="template_update"),
    path("templates/<int:pk>/copy/", views.template_copy, name="template_copy"),
    path("evaluations/", views.round_list, name="rounds"),
    path("evaluations/<int:pk>/", views.round_detail, name="round"),
    path("evaluations/<int:pk>/confirm/", views.round_confirm, name="round_confirm"),
    path("evaluations/<int:pk>/reopen/", views.round_reopen, name="round_reopen"),
    path(
        "evaluations/<int:pk>/admissions/<int:admission_pk>/decide/",
        views.admission_decide,
        name="admission_decide",
    ),
    path("evaluations/<int:pk>/scores/", views.round_scores, name="round_scores"),
    path(
        "evaluations/<int:pk>/scores.xlsx",
        views.round_scores_download,
        name="round_scores_download",
    ),
    path(
        "evaluations/<int:pk>/scores/upload/",
        views.round_scores_upload,
        name="round_scores_upload",
    ),
    path(
        "evaluations/<int:pk>/<int:evaluation_pk>/",
        views.evaluation_detail,
        name="evaluation",
    ),
    # Around a round (issue 18): its joint meeting, outside evaluators, talks.
    path("evaluations/<int:pk>/meeting/", meeting_views.round_meeting, name="round_meeting"),
    path(
        "evaluations/<int:pk>/meeting/minutes.pdf",
        meeting_views.round_meeting_file,
        name="round_meeting_file",
    ),
    path(
        "evaluations/<int:pk>/evaluators/",
        meeting_views.round_evaluators,
        name="round_evaluators",
    ),
    path(
        "evaluations/<int:pk>/evaluators/<int:evaluator_pk>/",
        meeting_views.evaluator_scores,
        name="evaluator_scores",
    ),
    path(
        "evaluations/<int:pk>/evaluators/<int:evaluator_pk>/remove/",
        meeting_views.evaluator_remove,
        name="evaluator_remove",
    ),
    path(
        "evaluations/<int:pk>/<int:evaluation_pk>/talk/",
        meeting_views.talk_record,
        name="talk_record",
    ),
    path("<int:pk>/<str:code>/", views.community_detail, name="community"),
    path("<int:pk>/<str:code>/evidence/<int:score_pk>/", views.score_evidence, name="evidence"),
]
