"""The evaluation page and its exports, mounted at /disputes/evaluation/ (urls.py)."""

from django.urls import path

from cityops.disputes import evaluation_views

app_name = "disputes_evaluation"
urlpatterns = [
    path("", evaluation_views.evaluation_page, name="page"),
    path("export.<str:fmt>", evaluation_views.evaluation_export, name="export"),
]
