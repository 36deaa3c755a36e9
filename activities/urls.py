from django.urls import path

from . import views

app_name = "activities"
urlpatterns = [
    path("", views.ActivityListView.as_view(), name="list"),
    path("new/", views.ActivityCreateView.as_view(), name="create"),
    path("month/", views.ActivityMonthView.as_view(), name="month"),
    path("<int:pk>/", views.ActivityDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ActivityUpdateView.as_view(), name="update"),
    path("<int:pk>/files/", views.activity_file_upload, name="file_upload"),
    path("<int:pk>/files/<int:file_pk>/", views.activity_file, name="file"),
    path("<int:pk>/files/<int:file_pk>/remove/", views.activity_file_remove, name="file_remove"),
    path("members/search/", views.member_search, name="member_search"),
    path("members/bulk/", views.member_bulk, name="member_bulk"),
    path("members/<int:pk>/timeline/", views.member_timeline, name="member_timeline"),
    path("members/not-contacted/", views.NotContactedView.as_view(), name="not_contacted"),
    path("visits/", views.VisitListView.as_view(), name="visit_list"),
    path("visits/new/", views.VisitCreateView.as_view(), name="visit_create"),
    path("visits/<int:pk>/", views.VisitDetailView.as_view(), name="visit_detail"),
    path("visits/<int:pk>/edit/", views.VisitUpdateView.as_view(), name="visit_update"),
    path("needs/", views.NeedListView.as_view(), name="need_list"),
    path("needs/new/", views.NeedCreateView.as_view(), name="need_create"),
    path("needs/<int:pk>/", views.NeedDetailView.as_view(), name="need_detail"),
    path("needs/<int:pk>/edit/", views.NeedUpdateView.as_view(), name="need_update"),
    path("needs/<int:pk>/refer/", views.need_refer, name="need_refer"),
    path("needs/<int:pk>/accept/", views.need_accept, name="need_accept"),
    path("needs/<int:pk>/return/", views.need_return, name="need_return"),
    path("needs/<int:pk>/recall/", views.need_recall, name="need_recall"),
    path("types/", views.ActivityTypeListView.as_view(), name="type_list"),
    path("types/new/", views.ActivityTypeCreateView.as_view(), name="type_create"),
    path("types/<int:pk>/edit/", views.ActivityTypeUpdateView.as_view(), name="type_update"),
    path("types/<int:pk>/toggle/", views.activity_type_toggle, name="type_toggle"),
]
