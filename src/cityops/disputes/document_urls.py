"""The documents pages of a dispute, mounted at /disputes/documents/ (disputes/urls.py)."""

from django.urls import path

from cityops.disputes import document_views as views

app_name = "dispute_documents"

urlpatterns = [
    path("<int:dispute_id>/", views.documents_page, name="page"),
    path("<int:dispute_id>/<slug:document>.pdf", views.document_download, name="pdf"),
    path("<int:dispute_id>/signatures/", views.signature_add, name="sign"),
    path("<int:dispute_id>/signatures/<int:signature_id>/file", views.signature_file, name="signature_file"),
]
