from django.urls import path

from . import projects, views

app_name = "resources"
urlpatterns = [
    path("", views.ResourceListView.as_view(), name="list"),
    path("new/", views.ResourceCreateView.as_view(), name="create"),
    path("<int:pk>/", views.ResourceDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ResourceUpdateView.as_view(), name="update"),
    path("talent/", views.TalentSearchView.as_view(), name="talent"),
    path("needs/", views.CommunityNeedListView.as_view(), name="need_list"),
    path("needs/new/", views.CommunityNeedCreateView.as_view(), name="need_create"),
    path("needs/<int:pk>/", views.CommunityNeedDetailView.as_view(), name="need_detail"),
    path("needs/<int:pk>/edit/", views.CommunityNeedUpdateView.as_view(), name="need_update"),
    path("needs/<int:pk>/close/", views.community_need_close, name="need_close"),
    path("needs/<int:pk>/match/", views.match_community_need, name="match_community_need"),
    path("member-needs/", views.MemberNeedListView.as_view(), name="member_need_list"),
    path("member-needs/<int:pk>/match/", views.match_need, name="match_need"),
    path("matches/<int:pk>/settle/", views.match_settle, name="match_settle"),
    path("ledger/", views.LedgerView.as_view(), name="ledger"),
    path("ledger/export/", views.ledger_export, name="ledger_export"),
    path("projects/", projects.ProjectListView.as_view(), name="project_list"),
    path("projects/new/", projects.ProjectCreateView.as_view(), name="project_create"),
    path("projects/<int:pk>/", projects.ProjectDetailView.as_view(), name="project_detail"),
    path("projects/<int:pk>/edit/", projects.ProjectUpdateView.as_view(), name="project_update"),
    path("projects/<int:pk>/advance/", projects.project_advance, name="project_advance"),
    path("projects/table/", projects.project_table, name="project_table"),
    path("projects/table/export/", projects.project_table_export, name="project_table_export"),
]
