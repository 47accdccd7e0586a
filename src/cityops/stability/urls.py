from django.urls import path

from cityops.stability import views

urlpatterns = [
    path("", views.decision_list, name="stability_list"),
    path("new/", views.decision_new, name="stability_new"),
    path("public/", views.public_list, name="stability_public_list"),
    path("public/<int:pk>/", views.public_page, name="stability_public"),
    path("<int:pk>/", views.decision_page, name="stability_page"),
    path("<int:pk>/act/<str:action>/", views.decision_action, name="stability_action"),
    path("<int:pk>/risks/", views.risk_add, name="stability_risk_add"),
    path("<int:pk>/risks/<int:risk_id>/", views.risk_update, name="stability_risk_update"),
    path("<int:pk>/comments/<int:comment_id>/moderate/", views.comment_moderate, name="stability_moderate"),
    path("<int:pk>/visits/", views.visit_add, name="stability_visit"),
    path("<int:pk>/hearings/", views.hearing_add, name="stability_hearing"),
    path("<int:pk>/report.pdf", views.report, name="stability_report"),
]
