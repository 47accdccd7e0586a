"""Signature records of a mediation agreement (人民调解法 §29: the agreement takes effect when every party has
signed, sealed or put a fingerprint on it). A party signs

- on paper: the signed page is scanned and uploaded (JPEG, PNG or PDF, checked by content, size limited), or
- on a tablet: the party signs on a signature canvas (disputes/signature_pad.js) and the page sends its PNG.

Staff record it (the dispute's mediator, the centre's staff, an administrator) while the dispute is `agreed`
(before the application for judicial confirmation): one signature per party, on the dispute's timeline."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import secrets

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from cityops.cases.services.photos import sniff_image, strip_metadata
from cityops.core.errors import CityopsError, Conflict, Forbidden, InvalidInput
from cityops.core.timeline import timeline_append
from cityops.core.workflow import actor_roles
from cityops.disputes import workflow as dwf
from cityops.disputes.documents import agreement_of
from cityops.disputes.models import Agreement, Dispute, Signature

RECORDERS = dwf.MEDIATION  # the assigned mediator, the centre's staff, an administrator
SIGNING_STATES = ("agreed",)

MAX_TABLET_BYTES = 1024 * 1024
MAX_TABLET_PIXELS = 4000 * 4000
MAX_SCAN_PIXELS = 40_000_000  # an A4 page scanned at 600 dpi is 35 million pixels
# Content a scanned PDF never needs and a viewer might act on.
PDF_ACTIVE_CONTENT = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia")


class PayloadTooLarge(CityopsError):
    status = 413
    code = "signature_too_large"


def max_scan_bytes() -> int:
    return settings.CITYOPS_MAX_SIGNATURE_BYTES


def max_upload_bytes() -> int:
    """The largest file either method accepts: an upload is read up to one byte more, then refused."""
    return max(MAX_TABLET_BYTES, max_scan_bytes())


def _check_pdf(data: bytes) -> None:
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise InvalidInput("PDF 文件不完整或已损坏", "The PDF file is incomplete or damaged", code="invalid_pdf")
    if any(marker in data for marker in PDF_ACTIVE_CONTENT):
        raise InvalidInput("扫描件 PDF 不得包含脚本、附件或多媒体内容",
                           "A scanned PDF must not contain scripts, attachments or media", code="pdf_active_content")


def _pixels(data: bytes) -> int:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only
            width, height = img.size
    except Image.DecompressionBombError as exc:
        raise InvalidInput("图片尺寸过大", "The image has too many pixels", code="image_too_large") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidInput("无法读取图片", "The image could not be read", code="invalid_image") from exc
    return width * height


def _is_blank(png: bytes) -> bool:
    """A canvas nobody drew on: every pixel transparent or white."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        rgba = img.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    darkest, _ = Image.alpha_composite(white, rgba).convert("L").getextrema()
    return darkest >= 250


def checked_file(*, method: str, data: bytes) -> tuple[bytes, str]:
    """The bytes to store and their extension, or a coded refusal: a tablet gives a PNG that is not blank (at most
    1 MB); a paper scan is a JPEG, PNG or PDF (at most CITYOPS_MAX_SIGNATURE_BYTES, 5 MB by default). Images are
    re-encoded without their metadata (a phone's scan carries GPS in its EXIF)."""
    if method not in Signature.Method.values:
        raise InvalidInput(f"签署方式须为 {' / '.join(Signature.Method.values)}",
                           f"The signing method must be one of {', '.join(Signature.Method.values)}",
                           code="invalid_signature_method")
    if not data:
        raise InvalidInput("签名文件为空", "The signature file is empty", code="empty_file")
    limit = MAX_TABLET_BYTES if method == Signature.Method.TABLET else max_scan_bytes()
    if len(data) > limit:
        raise PayloadTooLarge(f"签名文件超过 {limit // 1024} KB", f"The signature file exceeds {limit // 1024} KB")
    if method == Signature.Method.PAPER and data.startswith(b"%PDF-"):
        _check_pdf(data)
        return data, "pdf"
    sniffed = sniff_image(data)
    if method == Signature.Method.TABLET and (sniffed is None or sniffed[1] != "png"):
        raise InvalidInput("平板签名须为 PNG 图片", "A tablet signature must be a PNG image", code="invalid_signature_type")
    if sniffed is None or sniffed[1] not in ("png", "jpg"):
        raise InvalidInput("纸质签字扫描件须为 JPEG、PNG 图片或 PDF 文件",
                           "A scanned paper signature must be a JPEG or PNG image or a PDF file",
                           code="invalid_signature_type")
    _content_type, ext, fmt = sniffed
    if _pixels(data) > (MAX_TABLET_PIXELS if method == Signature.Method.TABLET else MAX_SCAN_PIXELS):
        raise InvalidInput("图片尺寸过大", "The image has too many pixels", code="image_too_large")
    clean = strip_metadata(data, fmt)
    if method == Signature.Method.TABLET and _is_blank(clean):
        raise InvalidInput("签名板上没有签名", "Nothing was drawn on the signature pad", code="empty_signature")
    return clean, ext


def png_from_data_url(value: str) -> bytes:
    """The PNG a signature canvas sends as a `data:image/png;base64,…` URL (canvas.toDataURL)."""
    prefix = "data:image/png;base64,"
    if not value.startswith(prefix):
        raise InvalidInput("签名板数据格式不正确", "The signature pad's data is not a PNG data URL",
                           code="invalid_signature_type")
    try:
        return base64.b64decode(value[len(prefix):], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("签名板数据格式不正确", "The signature pad's data is not valid base64",
                           code="invalid_signature_type") from exc


def signature_check(*, dispute: Dispute, actor) -> None:
    """May `actor` record a signature on `dispute` now? 403 signature_not_allowed, 409 signing_closed,
    409 no_agreement / agreement_without_terms."""
    if not (actor_roles(actor, dispute) & RECORDERS):
        raise Forbidden("只有承办调解员、调处中心工作人员可以记录当事人签名",
                        "Only the dispute's mediator or the centre's staff may record a party's signature",
                        code="signature_not_allowed")
    if dispute.state not in SIGNING_STATES:
        raise Conflict("只有在达成调解协议后、申请司法确认前可以签署协议",
                       "The agreement can be signed only after it is reached and before judicial confirmation is "
                       "requested", code="signing_closed")
    agreement_of(dispute)


def can_record(*, dispute: Dispute, user) -> bool:
    """Whether the page offers `user` the forms to record a signature on `dispute` now."""
    try:
        signature_check(dispute=dispute, actor=user)
    except CityopsError:
        return False
    return True


def signature_record(*, dispute: Dispute, actor, party_id: int, method: str, data: bytes,
                     filename: str = "") -> Signature:
    """Record that a party signed the dispute's agreement (人民调解法 §29): who (`party_id`, a party of this
    dispute), how (`method`: paper scan or tablet PNG, checked by `checked_file`), when (now), and by whom it was
    recorded. One signature per party. Nothing is written when anything is refused."""
    content, ext = checked_file(method=method, data=data)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
        signature_check(dispute=locked, actor=actor)
        agreement = agreement_of(locked)
        party = locked.parties.filter(pk=party_id).first()
        if party is None:
            raise InvalidInput("该当事人不属于此纠纷", "This party is not a party of the dispute",
                               code="party_not_in_dispute")
        if agreement.signatures.filter(party=party).exists():
            raise Conflict(f"{party.name} 已签署本协议", f"{party.name} has signed this agreement already",
                           code="already_signed")
        signature = Signature(agreement=agreement, party=party, method=method, signed_at=timezone.now(),
                              recorded_by=actor)
        # An unguessable name: the file says whose signature it is to nobody who finds its path.
        signature.file.save(f"{secrets.token_urlsafe(16)}.{ext}", ContentFile(content), save=False)
        try:
            signature.save()
            timeline_append(subject=locked, action="sign", actor=actor, from_state=locked.state,
                            to_state=locked.state, note=party.name,
                            params={"party": party.pk, "method": method, "sha256": digest,
                                    "original_name": (filename or "")[:200]})
        except BaseException:
            signature.file.delete(save=False)  # the row is rolled back: no file without its record
            raise
    return signature


def signature_status(dispute: Dispute) -> list[dict]:
    """Each party of the dispute with its signature (or None): what the documents page and the API show."""
    try:
        recorded = dispute.agreement.signatures.select_related("party", "recorded_by")
        signatures = {s.party_id: s for s in recorded}
    except Agreement.DoesNotExist:
        signatures = {}
    return [{"party": party, "signature": signatures.get(party.pk)} for party in dispute.parties.all()]
