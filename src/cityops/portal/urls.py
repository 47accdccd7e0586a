from django.urls import path

from cityops.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.report, name="report"),
    path("report/done/", views.done, name="done"),
    path("nearby.json", views.nearby, name="nearby"),
    path("track/", views.track, name="track"),
    path("map/", views.case_map, name="map"),
    path("map.json", views.map_data, name="map_data"),
]
