"""Photos of a case: which kind belongs to which step and who adds it, checked image bytes, stripped metadata."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.utils import timezone

from cityops.cases import conf
from cityops.cases import workflow as case_workflow
from cityops.cases.models import Case, CasePhoto
from cityops.cases.services.intake import INTAKE_ROLES
from cityops.core import roles
from cityops.core.errors import Conflict, Forbidden, InvalidInput
from cityops.core.timeline import timeline_append

# --- photos ------------------------------------------------------------------------------------------------
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png", "PNG"),
)


def sniff_image(data: bytes) -> tuple[str, str, str] | None:
    """(content type, extension, Pillow format) from the bytes themselves, never from the file name."""
    for magic, ctype, ext, fmt in SIGNATURES:
        if data.startswith(magic):
            return ctype, ext, fmt
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp", "WEBP"
    return None


def strip_metadata(data: bytes, fmt: str) -> bytes:
    """Re-encode the pixels only: EXIF (incl. GPS), XMP and text chunks are dropped; orientation is applied
    first so the picture still stands the right way up."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            if img.format != fmt:
                raise InvalidInput("文件内容与图片格式不符", "The file content does not match its image format", code="invalid_image")
            img = ImageOps.exif_transpose(img)
            out = io.BytesIO()
            if fmt == "JPEG":
                img.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
            elif fmt == "PNG":
                img.save(out, "PNG", optimize=True)
            else:
                img.save(out, "WEBP", quality=85)
            return out.getvalue()
    except InvalidInput:
        raise
    except Exception as exc:  # Pillow raises many types for broken input (incl. decompression bombs)
        raise InvalidInput("无法读取图片", "The image could not be read", code="invalid_image") from exc


def _private_storage() -> FileSystemStorage:
    return FileSystemStorage(location=str(settings.DATA_DIR / "private" / "case_photos"))


# Photo kinds belong to steps (issue 10 §4; RULES.md §1): the report's photos are added by the reporter or
# intake before dispatch (and by the grid worker asked to check it, 核实); handling photos by the lead department
# while it handles the case; verification photos by the grid worker of the place while it is verified (核查).
@dataclass(frozen=True)
class PhotoStep:
    kind: str
    states: tuple[str, ...]
    who: Callable[[Case, object], bool]  # may this actor add photos at this step of this case?


def _reporter_or_intake(case: Case, actor) -> bool:
    # No actor: the portal or Open311 on behalf of a visitor without an account, at intake.
    return actor is None or case.reporter_id == actor.pk or bool(actor.role_codes & INTAKE_ROLES)


def _field_worker_here(case: Case, actor) -> bool:
    return actor is not None and roles.GRID_WORKER in actor.role_codes and case_workflow.covers(case, actor)


def _lead_department(case: Case, actor) -> bool:
    return (actor is not None and bool(actor.role_codes & (case_workflow.DEPT | case_workflow.REGION))
            and case.lead_department_id is not None and case.lead_department_id in actor.org_unit_ids)


PHOTO_STEPS = (
    PhotoStep(CasePhoto.Kind.REPORT, ("reported", "checking", "registered"), _reporter_or_intake),
    PhotoStep(CasePhoto.Kind.REPORT, ("checking",), _field_worker_here),
    PhotoStep(CasePhoto.Kind.HANDLED, ("accepted", "extension_requested", "suspend_requested", "suspended"),
              _lead_department),
    PhotoStep(CasePhoto.Kind.VERIFY, ("handled",), _field_worker_here),
)
_PHOTO_REFUSALS = {
    CasePhoto.Kind.REPORT: (
        ("只有上报人、受理人员或核实的网格员可以添加上报照片",
         "Only the reporter, intake staff or the grid worker checking the report may add report photos"),
        ("上报照片只能在派遣前添加", "Report photos can be added only before the case is dispatched"),
    ),
    CasePhoto.Kind.HANDLED: (
        ("只有主办部门可以添加处置照片", "Only the lead department may add handling photos"),
        ("处置照片只能在签收后、处置完毕前添加",
         "Handling photos can be added only while the case is handled (accepted, not yet marked handled)"),
    ),
    CasePhoto.Kind.VERIFY: (
        ("只有案件所在区域的网格员可以添加核查照片", "Only a grid worker of the case's area may add verification photos"),
        ("核查照片只能在核查时添加", "Verification photos can be added only while the case is being verified"),
    ),
}


def photo_check(*, case: Case, actor, kind: str) -> None:
    """Refuse a photo of `kind` on `case` by `actor` now: 403 photo_not_allowed when the actor adds no photos of
    that kind to this case at any step, 409 photo_wrong_step when they do, but not in the case's state."""
    steps = [step for step in PHOTO_STEPS if step.kind == kind and step.who(case, actor)]
    if any(case.state in step.states for step in steps):
        return
    not_allowed, wrong_step = _PHOTO_REFUSALS[kind]
    if steps:
        raise Conflict(*wrong_step, code="photo_wrong_step")
    raise Forbidden(*not_allowed, code="photo_not_allowed")


def photo_kinds_for(*, case: Case, user) -> list[str]:
    """The photo kinds `user` may add to `case` now (what the case page offers)."""
    return list(dict.fromkeys(step.kind for step in PHOTO_STEPS
                              if case.state in step.states and step.who(case, user)))


def case_photo_add(*, case: Case, actor, data: bytes, filename: str = "", kind: str = "report") -> CasePhoto:
    """Attach a photo (at most 9 per case; JPEG/PNG/WebP by content; size limited) of the kind the case's step
    takes from this actor (`photo_check`). The public copy has its metadata stripped; the original is kept in
    private storage."""
    limit = int(getattr(settings, "CITYOPS_MAX_PHOTO_BYTES", 5 * 1024 * 1024))
    if len(data) > limit:
        raise InvalidInput(f"图片超过 {limit // 1024 // 1024} MB", f"The photo exceeds {limit} bytes", code="photo_too_large")
    sniffed = sniff_image(data)
    if sniffed is None:
        raise InvalidInput("只接受 JPEG、PNG 或 WebP 图片", "Only JPEG, PNG or WebP images are accepted", code="invalid_image_type")
    if kind not in CasePhoto.Kind.values:
        raise InvalidInput(f"未知照片类型 {kind!r}", f"Unknown photo kind {kind!r}", code="invalid_photo_kind")
    ctype, ext, fmt = sniffed
    public = strip_metadata(data, fmt)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        photo_check(case=locked, actor=actor, kind=kind)
        if locked.photos.count() >= int(conf.get("MAX_PHOTOS")):
            raise InvalidInput(f"每个案件最多 {conf.get('MAX_PHOTOS')} 张照片", "Too many photos for this case", code="too_many_photos")
        original_path = _private_storage().save(f"{locked.code}/{digest[:16]}.{ext}", ContentFile(data))
        photo = CasePhoto(case=locked, kind=kind, content_type=ctype, size=len(public), sha256=digest,
                          original_name=(filename or "")[:200], original_path=original_path, uploaded_by=actor,
                          created_at=timezone.now())
        photo.public.save(f"{digest[:16]}.{ext}", ContentFile(public), save=False)
        photo.save()
        timeline_append(subject=locked, action="photo_add", actor=actor, from_state=locked.state, to_state=locked.state,
                        params={"photo": photo.pk, "kind": kind, "sha256": digest})
    return photo
