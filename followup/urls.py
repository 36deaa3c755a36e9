from django.urls import path

from . import views

app_name = "followup"
urlpatterns = [
    path("periods/<int:pk>/", views.period_table, name="period"),
    path("periods/<int:pk>/notify/", views.notify, name="notify"),
    path("<int:pk>/", views.rectification_detail, name="detail"),
    path("<int:pk>/edit/", views.rectification_update, name="update"),
    path("<int:pk>/report/", views.rectification_report, name="report"),
    path("<int:pk>/pass/", views.rectification_pass, name="pass"),
    path("<int:pk>/send-back/", views.rectification_send_back, name="send_back"),
    path("<int:pk>/accept/", views.rectification_accept, name="accept"),
    path("<int:pk>/return/", views.rectification_return, name="return"),
    path("<int:pk>/files/<int:file_pk>/", views.rectification_file, name="file"),
    path("model/<int:pk>/", views.model_community, name="model"),
]
