"""The dashboard pages, mounted at /dashboard/."""

app_name = "dashboard"
urlpatterns = []
