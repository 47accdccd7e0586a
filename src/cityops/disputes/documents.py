"""The documents of a dispute, as PDF (core.pdf.render_pdf, Chinese font embedded):

- 人民调解协议书, the mediation agreement (人民调解法 §28–§31): parties, facts, terms, performance method and deadline,
  the committee and mediator, each party's signature record (who, when, how) and the committee's seal line;
- 司法确认申请书, the application for judicial confirmation (人民调解法 §33): both parties apply, within 30 days of
  the agreement, to the basic people's court where the committee sits (or the court the agreement names);
- 终止调解告知书, the termination notice (人民调解法 §26): the reason, and the routes the parties may take
  (arbitration, administrative, court).

Who may read them (`document_dispute`): staff of the dispute's centre, mediators of its committee, its mediator,
leaders, administrators, and the parties' own resident accounts. A person's ID number is printed in full for
those who may read it (privacy.party_id_number: the centre's staff, the assigned mediator, an administrator) and
masked for everyone else. The documents are legal texts in Chinese whatever the page's language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import FileResponse, HttpResponse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from cityops.core import roles
from cityops.core.errors import Conflict, NotFound
from cityops.core.pdf import data_url, render_pdf
from cityops.core.timeline import timeline_for
from cityops.core.workflow import actor_roles
from cityops.disputes import privacy
from cityops.disputes import workflow as dwf
from cityops.disputes.guards import confirmation_deadline
from cityops.disputes.models import Agreement, Dispute, Party, Referrer, Signature

DOCUMENT_READERS = frozenset({dwf.CENTRE_STAFF, dwf.COMMITTEE_MEDIATOR, dwf.ASSIGNED_MEDIATOR, dwf.PARTY,
                              roles.LEADER, roles.ADMIN})

# 人民调解法 §26: the routes a party is told of when mediation ends without agreement (the notice prints the
# routes recorded on the dispute by the `refer` step, or these three before it).
ROUTE_TEXTS = {
    "arbitration": ("仲裁", "依法向有管辖权的仲裁机构申请仲裁（劳动争议向劳动人事争议仲裁委员会申请仲裁）"),
    "administrative": ("行政途径", "依法请求有关行政机关处理或者申请行政调解、行政复议"),
    "court": ("司法途径", "依法向有管辖权的人民法院提起诉讼"),
    "police": ("报警求助", "可能危及人身、财产安全的，向公安机关报案或者求助"),
    "petition": ("信访", "依照《信访工作条例》向有关机关反映情况、提出建议或者投诉请求"),
}
STATUTORY_ROUTES = ("arbitration", "administrative", "court")

CHINESE_DIGITS = "零一二三四五六七八九十"
DOCUMENT_LANGUAGE = "zh-hans"


@dataclass(frozen=True)
class Document:
    slug: str  # the file name's stem and the URL segment
    title: str  # the legal title printed on the document (Chinese)
    template: str
    label: str  # its name on a page, in the page's language


AGREEMENT = Document("agreement", "人民调解协议书", "disputes/pdf/agreement.html", _("人民调解协议书"))
CONFIRMATION_APPLICATION = Document("confirmation-application", "司法确认申请书",
                                    "disputes/pdf/confirmation_application.html", _("司法确认申请书"))
TERMINATION_NOTICE = Document("termination-notice", "终止调解告知书", "disputes/pdf/termination_notice.html",
                              _("终止调解告知书"))
DOCUMENTS = {d.slug: d for d in (AGREEMENT, CONFIRMATION_APPLICATION, TERMINATION_NOTICE)}


def can_read_documents(*, dispute: Dispute, user) -> bool:
    return bool(user and user.is_authenticated and actor_roles(user, dispute) & DOCUMENT_READERS)


def document_dispute(*, user, dispute_id: int) -> Dispute:
    """The dispute whose documents `user` may read; 404 otherwise (whether it exists is not told)."""
    dispute = (Dispute.objects.select_related("committee", "centre", "mediator", "agreement", "referrer")
               .filter(pk=dispute_id).first())
    if dispute is None or not can_read_documents(dispute=dispute, user=user):
        raise NotFound("未找到该纠纷的文书", "No documents of this dispute were found", code="dispute_not_found")
    return dispute


def chinese_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localdate(value)
    return f"{value.year}年{value.month}月{value.day}日"


def chinese_count(n: int) -> str:
    return CHINESE_DIGITS[n] if 0 <= n <= 10 else str(n)


def agreement_of(dispute: Dispute) -> Agreement:
    """The dispute's agreement, refused when there is none (409 no_agreement) or it has no terms (409
    agreement_without_terms): a document or a signature needs what the parties agreed to."""
    try:
        agreement = dispute.agreement
    except Agreement.DoesNotExist:
        raise Conflict("该纠纷尚未达成调解协议", "This dispute has no mediation agreement yet",
                       code="no_agreement") from None
    if not agreement.terms.strip():
        raise Conflict("调解协议没有协议内容（条款），不能生成或签署",
                       "The agreement has no terms: it cannot be generated or signed", code="agreement_without_terms")
    return agreement


def display_name(user) -> str:
    if user is None:
        return ""
    return user.first_name or user.username


def _id_shown(party: Party, user) -> str:
    if party.kind != Party.Kind.PERSON:
        return party.uscc
    if privacy.may_read_id(party, user):
        return privacy.party_id_number(party, user) or party.id_masked
    return party.id_masked


def _party_rows(dispute: Dispute, user) -> list[dict]:
    rows = []
    for party in dispute.parties.all():
        party.dispute = dispute  # the ID check reads the dispute's roles: no second query
        is_person = party.kind == Party.Kind.PERSON
        rows.append({
            "party": party,
            "name": party.name,
            "side": party.get_side_display(),
            "kind": party.get_kind_display(),
            "id_label": "公民身份号码" if is_person else "统一社会信用代码",
            "id_value": _id_shown(party, user) or "—",
        })
    return rows


def _signature_rows(agreement, parties: list[dict]) -> list[dict]:
    by_party = {s.party_id: s for s in agreement.signatures.select_related("party", "recorded_by")}
    rows = []
    for row in parties:
        signature: Signature | None = by_party.get(row["party"].pk)
        image = None
        if signature is not None:
            content_type = signature_content_type(signature)
            if content_type in ("image/png", "image/jpeg"):
                with signature.file.open("rb") as f:
                    image = data_url(f.read(), content_type)
        rows.append({
            **row,
            "signature": signature,
            "method": signature.get_method_display() if signature else "",
            "signed_at": timezone.localtime(signature.signed_at).strftime("%Y-%m-%d %H:%M") if signature else "",
            "recorded_by": display_name(signature.recorded_by) if signature else "",
            "image": image,
            "scan_is_pdf": bool(signature) and image is None,
        })
    return rows


def signature_content_type(signature: Signature) -> str:
    name = signature.file.name.lower()
    if name.endswith(".pdf"):
        return "application/pdf"
    if name.endswith(".png"):
        return "image/png"
    return "image/jpeg"


def _court(dispute: Dispute, agreement) -> str:
    """The court the application goes to: the one recorded with the request; else the court that referred the
    dispute (民事诉讼法: 人民法院邀请调解组织开展先行调解的，向作出邀请的人民法院提出); else the basic people's court
    of the district where the committee sits (人民调解法 §33; 调解组织所在地基层人民法院)."""
    if agreement.court.strip():
        return agreement.court.strip()
    if dispute.referrer is not None and dispute.referrer.kind == Referrer.Kind.COURT:
        return dispute.referrer.name
    from cityops.geo.models import Region

    code = (dispute.committee.region_code if dispute.committee else "") or dispute.district_code
    if len(code) >= 6:
        names = dict(Region.objects.filter(code__in=[code[:4] + "00", code[:6]]).values_list("code", "name"))
        district = names.get(code[:6])
        if district:
            return f"{names.get(code[:4] + '00', '')}{district}人民法院"
    return "调解组织所在地基层人民法院"


def _base_context(dispute: Dispute, document: Document, user) -> dict:
    return {
        "title": document.title,
        "dispute": dispute,
        "kind": dispute.get_kind_display(),
        "committee": dispute.committee.name if dispute.committee else "",
        "mediator": display_name(dispute.mediator),
        "parties": _party_rows(dispute, user),
    }


def agreement_context(dispute: Dispute, user) -> dict:
    agreement = agreement_of(dispute)
    context = _base_context(dispute, AGREEMENT, user)
    context.update({
        "agreement": agreement,
        "agreed_on": chinese_date(agreement.created_at),
        "performance_deadline": chinese_date(agreement.performance_deadline),
        "signatures": _signature_rows(agreement, context["parties"]),
        # §29: one copy for each party, one kept by the committee.
        "copies": chinese_count(len(context["parties"]) + 1),
    })
    return context


def confirmation_application_context(dispute: Dispute, user) -> dict:
    agreement = agreement_of(dispute)
    context = _base_context(dispute, CONFIRMATION_APPLICATION, user)
    context.update({
        "agreement": agreement,
        "agreed_on": chinese_date(agreement.created_at),
        "performance_deadline": chinese_date(agreement.performance_deadline),
        "apply_by": chinese_date(confirmation_deadline(dispute)),
        "court": _court(dispute, agreement),
    })
    return context


def _require_terminated(dispute: Dispute) -> None:
    if not dispute.termination_reason:
        raise Conflict("该纠纷的调解未终止，没有终止调解告知书",
                       "Mediation of this dispute was not terminated: there is no termination notice",
                       code="not_terminated")


def _termination_entry(dispute: Dispute):
    return timeline_for(dispute).filter(action="terminate").order_by("-seq").first()


def termination_notice_context(dispute: Dispute, user) -> dict:
    _require_terminated(dispute)
    entry = _termination_entry(dispute)
    params = (entry.params or {}) if entry else {}
    detail = str(params.get("detail") or (entry.note if entry else "") or "").strip()
    codes = [code for code in dispute.referred_routes if code in ROUTE_TEXTS] or list(STATUTORY_ROUTES)
    context = _base_context(dispute, TERMINATION_NOTICE, user)
    context.update({
        "reason": dispute.get_termination_reason_display(),
        "detail": detail,
        "terminated_on": chinese_date(entry.at if entry else dispute.state_changed_at),
        "routes": [{"code": code, "name": ROUTE_TEXTS[code][0], "text": ROUTE_TEXTS[code][1]} for code in codes],
        "accepted_on": chinese_date(dispute.created_at),
    })
    return context


CONTEXTS = {
    AGREEMENT.slug: agreement_context,
    CONFIRMATION_APPLICATION.slug: confirmation_application_context,
    TERMINATION_NOTICE.slug: termination_notice_context,
}


def document_pdf(*, dispute: Dispute, slug: str, user) -> bytes:
    """The PDF of the document `slug` (agreement, confirmation-application, termination-notice) of a dispute the
    caller has loaded through `document_dispute`. 404 for an unknown document, 409 when the dispute has none yet."""
    if not can_read_documents(dispute=dispute, user=user):
        raise NotFound("未找到该纠纷的文书", "No documents of this dispute were found", code="dispute_not_found")
    document = DOCUMENTS.get(slug)
    if document is None:
        raise NotFound("没有这种文书", "No such document", code="document_not_found")
    with translation.override(DOCUMENT_LANGUAGE):  # a legal text in Chinese, whatever the page's language
        return render_pdf(document.template, CONTEXTS[slug](dispute, user))


def documents_available(dispute: Dispute) -> list[dict]:
    """Each document with whether the dispute has it now and, when not, why (what the documents page shows)."""
    out = []
    for slug, document in DOCUMENTS.items():
        try:
            if slug == TERMINATION_NOTICE.slug:
                _require_terminated(dispute)
            else:
                agreement_of(dispute)
        except Conflict as exc:
            out.append({"document": document, "available": False, "why": exc.message, "why_en": exc.message_en})
        else:
            out.append({"document": document, "available": True, "why": "", "why_en": ""})
    return out


# --- HTTP answers, the API's and the pages' alike ----------------------------------------------------------------
def pdf_response(dispute: Dispute, slug: str, pdf: bytes) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, f"{dispute.code}-{slug}.pdf")
    response["Cache-Control"] = "private, no-store"  # personal data: no shared cache keeps it
    return response


def signature_file_response(dispute: Dispute, signature_id: int) -> FileResponse:
    """The stored scan or tablet image of one signature of the dispute's agreement, as a download."""
    signature = (Signature.objects.select_related("party")
                 .filter(pk=signature_id, agreement__dispute=dispute).first())
    if signature is None:
        raise NotFound("未找到该签名记录", "No such signature record", code="signature_not_found")
    content_type = signature_content_type(signature)
    extension = {"application/pdf": "pdf", "image/png": "png"}.get(content_type, "jpg")
    response = FileResponse(signature.file.open("rb"), content_type=content_type, as_attachment=True,
                            filename=f"{dispute.code}-signature-{signature.party_id}.{extension}")
    response["Cache-Control"] = "private, no-store"
    return response
