"""/disputes/: the list, the centre's desk, a dispute's page and its actions, the mediator's queue, a city case
turned into a dispute, and the resident's pages."""

from django.urls import path

from cityops.disputes import views

urlpatterns = [
    path("", views.dispute_list, name="dispute_list"),
    path("desk/", views.desk, name="dispute_desk"),
    path("queue/", views.queue, name="dispute_queue"),
    path("apply/", views.apply, name="dispute_apply"),
    path("mine/", views.mine, name="dispute_mine"),
    path("from-case/<str:code>/", views.from_case, name="dispute_from_case"),
    path("<int:pk>/", views.detail, name="dispute_page"),
    path("<int:pk>/act/<str:action>/", views.act, name="dispute_action"),
    path("<int:pk>/risk/", views.raise_risk, name="dispute_raise_risk"),
]
