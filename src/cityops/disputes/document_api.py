"""The documents of a dispute and its agreement's signature records, mounted at /api/v1/disputes/documents/:

- `GET /{dispute_id}`: which documents the dispute has now (and why not), each party's signature record;
- `GET /{dispute_id}/pdf/{document}`: agreement | confirmation-application | termination-notice, as PDF;
- `POST /{dispute_id}/signatures` (multipart: party_id, method paper|tablet, file): a party signed;
- `GET /{dispute_id}/signatures/{signature_id}/file`: the stored scan or tablet image.

Readers are those of `documents.document_dispute` (the centre's staff, the committee's mediators, the dispute's
mediator, leaders, administrators, the parties' own accounts); anyone else gets 404."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from cityops.core.schemas import Id, Schema
from cityops.disputes import documents, signatures

router = Router(tags=["disputes"])

DocumentSlug = Literal["agreement", "confirmation-application", "termination-notice"]
PDF_RESPONSE = {"responses": {"200": {"description": "PDF", "content": {"application/pdf": {
    "schema": {"type": "string", "format": "binary"}}}}}}


class DocumentOut(Schema):
    document: str
    title: str
    available: bool
    why: str
    why_en: str
    url: str | None


class SignatureOut(Schema):
    id: int
    party_id: int
    party: str
    method: str
    method_label: str
    signed_at: datetime
    recorded_by: str
    file_url: str


class PartySignatureOut(Schema):
    party_id: int
    party: str
    side: str
    signature: SignatureOut | None


class DocumentsOut(Schema):
    dispute_id: int
    code: str
    documents: list[DocumentOut]
    signatures: list[PartySignatureOut]
    can_record_signatures: bool


def _api_base(dispute_id: int) -> str:
    return f"/api/v1/disputes/documents/{dispute_id}"


def signature_out(dispute_id: int, signature) -> dict:
    return {
        "id": signature.pk, "party_id": signature.party_id, "party": signature.party.name,
        "method": signature.method, "method_label": str(signature.get_method_display()),
        "signed_at": signature.signed_at,
        "recorded_by": documents.display_name(signature.recorded_by),
        "file_url": f"{_api_base(dispute_id)}/signatures/{signature.pk}/file",
    }


@router.get("/{dispute_id}", response=DocumentsOut, summary="纠纷文书与签名记录 / a dispute's documents and signatures")
def documents_index(request, dispute_id: Id):
    dispute = documents.document_dispute(user=request.auth, dispute_id=dispute_id)
    docs = [{"document": d["document"].slug, "title": d["document"].title, "available": d["available"],
             "why": d["why"], "why_en": d["why_en"],
             "url": f"{_api_base(dispute.pk)}/pdf/{d['document'].slug}" if d["available"] else None}
            for d in documents.documents_available(dispute)]
    rows = [{"party_id": row["party"].pk, "party": row["party"].name, "side": row["party"].side,
             "signature": signature_out(dispute.pk, row["signature"]) if row["signature"] else None}
            for row in signatures.signature_status(dispute)]
    return {"dispute_id": dispute.pk, "code": dispute.code, "documents": docs, "signatures": rows,
            "can_record_signatures": signatures.can_record(dispute=dispute, user=request.auth)}


@router.get("/{dispute_id}/pdf/{document}", summary="下载文书（PDF）/ a document as PDF", openapi_extra=PDF_RESPONSE)
def document_download(request, dispute_id: Id, document: DocumentSlug):
    dispute = documents.document_dispute(user=request.auth, dispute_id=dispute_id)
    pdf = documents.document_pdf(dispute=dispute, slug=document, user=request.auth)
    return documents.pdf_response(dispute, document, pdf)


@router.post("/{dispute_id}/signatures", response={201: SignatureOut},
             summary="记录当事人签名（纸质扫描或平板签名）/ record a party's signature")
def signature_add(request, dispute_id: Id, party_id: Form[Id], method: Form[Literal["paper", "tablet"]],
                  file: File[UploadedFile]):
    dispute = documents.document_dispute(user=request.auth, dispute_id=dispute_id)
    data = file.read(signatures.max_upload_bytes() + 1)
    signature = signatures.signature_record(dispute=dispute, actor=request.auth, party_id=party_id, method=method,
                                            data=data, filename=file.name or "")
    return Status(201, signature_out(dispute.pk, signature))


@router.get("/{dispute_id}/signatures/{signature_id}/file", summary="签名文件 / a signature's file",
            openapi_extra={"responses": {"200": {"description": "PNG, JPEG or PDF", "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("image/png", "image/jpeg", "application/pdf")}}}})
def signature_file(request, dispute_id: Id, signature_id: Id):
    dispute = documents.document_dispute(user=request.auth, dispute_id=dispute_id)
    return documents.signature_file_response(dispute, signature_id)
