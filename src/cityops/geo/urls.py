from django.urls import path

from cityops.geo import views

app_name = "geo"
urlpatterns = [
    path("", views.region_map, name="map"),
]
