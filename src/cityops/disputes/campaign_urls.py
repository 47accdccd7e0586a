"""Pages of screening campaigns and door-knocking visits, mounted at /disputes/campaigns/ (disputes/urls.py)."""

from django.urls import path

from cityops.disputes import campaign_views as views

urlpatterns = [
    path("", views.campaign_list, name="disputes_campaign_list"),
    path("new/", views.campaign_new, name="disputes_campaign_new"),
    path("visit/", views.visit_page, name="disputes_campaign_visit"),
    path("<int:pk>/", views.campaign_detail, name="disputes_campaign_detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="disputes_campaign_edit"),
]
