"""The documents page of a dispute (/disputes/documents/<id>/): the three documents to download, each party's
signature record, and — for the dispute's mediator and the centre's staff while the agreement is open for
signing — a scan upload and a signature pad for a tablet. The same services as the API (document_api.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cityops.core.errors import CityopsError, InvalidInput, NotFound
from cityops.disputes import documents, signatures
from cityops.disputes.models import Signature


def _text(exc: CityopsError) -> str:
    """The refusal in the page's language."""
    return exc.message_en if (get_language() or "").startswith("en") else exc.message


def _dispute_or_404(user, dispute_id: int):
    try:
        return documents.document_dispute(user=user, dispute_id=dispute_id)
    except NotFound as exc:
        raise Http404(_text(exc)) from exc


def _page_url(dispute_id: int) -> str:
    return f"/disputes/documents/{dispute_id}/"


@login_required
@require_GET
def documents_page(request, dispute_id: int):
    dispute = _dispute_or_404(request.user, dispute_id)
    status = signatures.signature_status(dispute)
    return render(request, "disputes/documents.html", {
        "dispute": dispute,
        "documents": documents.documents_available(dispute),
        "status": status,
        "unsigned": [row["party"] for row in status if row["signature"] is None],
        "can_record": signatures.can_record(dispute=dispute, user=request.user),
        "max_scan_mb": signatures.max_scan_bytes() // (1024 * 1024),
    })


@login_required
@require_GET
def document_download(request, dispute_id: int, document: str):
    dispute = _dispute_or_404(request.user, dispute_id)
    try:
        pdf = documents.document_pdf(dispute=dispute, slug=document, user=request.user)
    except NotFound as exc:
        raise Http404(_text(exc)) from exc
    except CityopsError as exc:  # the dispute has no such document yet: the page says why
        messages.error(request, _text(exc))
        return redirect(_page_url(dispute.pk))
    return documents.pdf_response(dispute, document, pdf)


def _party_id(value: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput("请选择签署的当事人", "Choose the party who signed", code="invalid_party")
    return int(value)


@login_required
@require_POST
def signature_add(request, dispute_id: int):
    dispute = _dispute_or_404(request.user, dispute_id)
    method = request.POST.get("method", "")
    try:
        party_id = _party_id(request.POST.get("party_id", ""))
        if method == Signature.Method.TABLET:
            data, filename = signatures.png_from_data_url(request.POST.get("image", "")), "tablet.png"
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise InvalidInput("请选择签字页的扫描文件", "Choose the scanned signature page", code="empty_file")
            data, filename = upload.read(signatures.max_upload_bytes() + 1), upload.name or ""
        signature = signatures.signature_record(dispute=dispute, actor=request.user, party_id=party_id,
                                                method=method, data=data, filename=filename)
    except CityopsError as exc:
        messages.error(request, _text(exc))
    else:
        messages.success(request, _("已记录 %(name)s 的签名") % {"name": signature.party.name})
    return redirect(_page_url(dispute.pk))


@login_required
@require_GET
def signature_file(request, dispute_id: int, signature_id: int):
    dispute = _dispute_or_404(request.user, dispute_id)
    try:
        return documents.signature_file_response(dispute, signature_id)
    except NotFound as exc:
        raise Http404(_text(exc)) from exc
