"""The dashboard pages, mounted at /dashboard/: the map (一图展示) at the root, the warnings, the live feed."""

from django.urls import path

from cityops.dashboard import briefing_views, live_views, map_views, views

app_name = "dashboard"
urlpatterns = [
    path("", map_views.dashboard, name="home"),
    path("warnings/", views.warning_list, name="warnings"),
    path("warnings/<int:pk>/", views.warning_detail, name="warning"),
    path("warnings/<int:pk>/<str:action>/", views.warning_action, name="warning_action"),
    path("live/", live_views.page, name="live"),
    path("live/stream/", live_views.stream, name="live_stream"),
    path("briefings/", briefing_views.briefing_list, name="briefings"),
    path("briefings/<int:pk>/", briefing_views.briefing_detail, name="briefing"),
    path("briefings/<int:pk>/<str:fmt>/", briefing_views.briefing_file, name="briefing_file"),
]
