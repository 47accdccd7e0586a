from django.urls import path

from cityops.hotline import views

app_name = "hotline"
urlpatterns = [
    path("", views.call_screen, name="call"),
    path("suggest/", views.suggest_partial, name="suggest"),
    path("accept/", views.accept, name="accept"),
]
