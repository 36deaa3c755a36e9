from django.urls import path

from . import views

app_name = "commendations"
urlpatterns = [
    path("", views.CampaignListView.as_view(), name="list"),
    path("new/", views.CampaignCreateView.as_view(), name="create"),
    path("counts/", views.counts, name="counts"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/close/", views.campaign_close, name="close"),
    path("<int:pk>/reopen/", views.campaign_reopen, name="reopen"),
    path("<int:pk>/publish/", views.campaign_publish, name="publish"),
    path("<int:pk>/nominate/", views.nomination_create, name="nominate"),
    path("nominations/<int:pk>/", views.nomination_detail, name="nomination"),
    path("nominations/<int:pk>/edit/", views.nomination_edit, name="edit"),
    path("nominations/<int:pk>/withdraw/", views.nomination_withdraw, name="withdraw"),
    path("nominations/<int:pk>/review/", views.nomination_review, name="review"),
    path("nominations/<int:pk>/decide/", views.nomination_decide, name="decide"),
    path("nominations/<int:pk>/files/<int:file_pk>/", views.nomination_file, name="file"),
]
