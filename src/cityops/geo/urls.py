from django.urls import path

from cityops.geo import views

app_name = "geo"
urlpatterns = [
    path("", views.region_map, name="map"),
    path("tiles/outlines/<int:z>/<int:x>/<int:y>.json", views.outline_tile, name="outline_tile"),
    path("tiles/base/<int:z>/<int:x>/<int:y>", views.base_tile, name="base_tile"),
    path("locate.json", views.address_point, name="address_point"),
]
