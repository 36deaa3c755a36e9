from django.urls import path

from . import views

app_name = "organisations"
urlpatterns = [
    path("", views.OrganisationListView.as_view(), name="list"),
    path("new/", views.OrganisationCreateView.as_view(), name="create"),
    path("<int:pk>/", views.OrganisationDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.OrganisationUpdateView.as_view(), name="update"),
    path("<int:pk>/members/add/", views.membership_add, name="membership_add"),
    path("memberships/<int:pk>/end/", views.membership_end, name="membership_end"),
    path("places/", views.PlaceListView.as_view(), name="place_list"),
    path("places/new/", views.PlaceCreateView.as_view(), name="place_create"),
    path("places/<int:pk>/", views.PlaceDetailView.as_view(), name="place_detail"),
    path("places/<int:pk>/edit/", views.PlaceUpdateView.as_view(), name="place_update"),
]
