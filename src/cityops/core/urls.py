from django.urls import path

from cityops.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox_read_all"),
    path("inbox/<int:pk>/read/", views.inbox_read, name="inbox_read"),
    path("inbox/<int:pk>/open/", views.inbox_open, name="inbox_open"),
]
