from django.urls import path

from cityops.iot import views

app_name = "iot"
urlpatterns = [
    path("", views.device_list, name="devices"),
    path("devices/<str:code>/", views.device_detail, name="device"),
    path("alarms/", views.alarm_list, name="alarms"),
    path("alarms/<int:pk>/", views.alarm_detail, name="alarm"),
    path("alarms/<int:pk>/<str:action>/", views.alarm_action, name="alarm_action"),
]
