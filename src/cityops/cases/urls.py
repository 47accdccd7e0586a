from django.urls import path

from cityops.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("locate/", views.address_search, name="locate"),
    path("dispatch/", views.dispatch_queue, name="dispatch_queue"),
    path("queue/", views.department_queue, name="queue"),
    path("level/", views.level_queue, name="level_queue"),
    path("tasks/", views.field_tasks, name="tasks"),
    path("approvals/", views.approvals, name="approvals"),
    path("evaluation/", views.evaluation_page, name="evaluation"),
    path("evaluation/export.<str:fmt>", views.evaluation_export, name="evaluation_export"),
    path("<str:code>/", views.case_detail, name="detail"),
    path("<str:code>/act/<str:action>/", views.case_action, name="action"),
    path("<str:code>/photos/", views.photo_add, name="photo_add"),
    path("<str:code>/consult/", views.consultation_add, name="consult"),
    path("<str:code>/tasks/<int:task_id>/<str:action>/", views.task_action, name="task_action"),
]
