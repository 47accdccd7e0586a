"""The dashboard pages, mounted at /dashboard/ (the map's page will take the root; until then it lists warnings)."""

from django.urls import path
from django.views.generic import RedirectView

from cityops.dashboard import live_views, views

app_name = "dashboard"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard:warnings"), name="home"),
    path("warnings/", views.warning_list, name="warnings"),
    path("warnings/<int:pk>/", views.warning_detail, name="warning"),
    path("warnings/<int:pk>/<str:action>/", views.warning_action, name="warning_action"),
    path("live/", live_views.page, name="live"),
    path("live/stream/", live_views.stream, name="live_stream"),
]
