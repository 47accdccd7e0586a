"""Every read of the Open311 facade. All of it is public (GeoReport v2 GETs need no key), so nothing
personal is ever read into an answer: no phone, e-mail, name, device or account of a reporter; phone
numbers and e-mail addresses typed into a description are masked too.
"""

from __future__ import annotations

import re

from django.db.models import Prefetch, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cityops.cases.models import Case, Category
from cityops.core.errors import NotFound
from cityops.core.models import TimelineEntry
from cityops.open311 import conf
from cityops.open311 import params as p
from cityops.open311.models import Open311Request, ServiceAttribute
from cityops.open311.status import extended_status, open311_status, plain_words, states_for

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)\d{4}(\d{3,4})(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def mask_personal(text: str) -> str:
    """Mobile and landline numbers → 138****5678; e-mail addresses → ***@***."""
    text = _PHONE.sub(r"\1****\2", text or "")
    text = _LANDLINE.sub(r"\1****\2", text)
    return _EMAIL.sub("***@***", text)


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _name(category: Category) -> str:
    return (category.name_en or category.name_zh) if _english() else category.name_zh


def private_codes() -> set[str]:
    return {str(c).upper() for c in conf.get("PRIVATE_CATEGORIES")}


# --- services ----------------------------------------------------------------------------------------------
def service_list() -> list[dict]:
    with_attributes = set(ServiceAttribute.objects.filter(active=True).values_list("category_code", flat=True))
    out = []
    for cat in Category.objects.filter(active=True).order_by("code"):
        keywords = [cat.name_zh, cat.name_en, cat.major_zh, cat.get_kind_display()]
        out.append(
            {
                "service_code": cat.code,
                "service_name": _name(cat),
                "description": f"{cat.major_zh} · {cat.name_zh}" + (f" ({cat.name_en})" if cat.name_en else ""),
                "metadata": cat.code in with_attributes,
                "type": conf.get("TYPE"),
                "keywords": ", ".join(k for k in keywords if k),
                "group": cat.major_zh,
            }
        )
    return out


def category_for_service(code: str) -> Category:
    category = Category.objects.filter(code=(code or "").strip().upper(), active=True).first()
    if category is None:
        raise NotFound(f"service_code「{code}」不存在", f"service_code '{code}' not found", code="service_not_found")
    return category


def service_attributes(category_code: str) -> list[ServiceAttribute]:
    return list(ServiceAttribute.objects.filter(category_code=category_code, active=True).order_by("order", "code"))


def service_definition(code: str) -> dict:
    category = category_for_service(code)
    english = _english()
    attributes = []
    for order, attr in enumerate(service_attributes(category.code), start=1):
        item = {
            "variable": attr.variable,
            "code": attr.code,
            "datatype": attr.datatype,
            "required": attr.required,
            "datatype_description": attr.datatype_description or None,
            "order": order,
            "description": (attr.description_en or attr.description) if english else attr.description,
        }
        if attr.datatype in (ServiceAttribute.Datatype.SINGLE, ServiceAttribute.Datatype.MULTI):
            item["values"] = [
                {"key": v.get("key"), "name": (v.get("name_en") or v.get("name")) if english else v.get("name")}
                for v in attr.values or []
            ]
        attributes.append(item)
    return {"service_code": category.code, "attributes": attributes}


# --- requests ----------------------------------------------------------------------------------------------
def _base() -> QuerySet[Case]:
    return (
        Case.objects.select_related("category", "lead_department", "proposed_department", "duplicate_of")
        .prefetch_related(
            Prefetch("open311", queryset=Open311Request.objects.only("id", "case_id", "media_url", "attributes")),
            "photos",
        )
        .exclude(category__code__in=private_codes())
    )


def request_list(params) -> list[Case]:
    """GET requests: service_request_id (comma list) overrides every other argument; otherwise service_code,
    status and a requested_datetime window of at most 90 days; the first 1000, newest first."""
    number, size = p.page(params)
    ids = p.values(params, "service_request_id")
    qs = _base()
    if ids:
        return list(qs.filter(code__in=ids[: int(conf.get("MAX_ROWS"))]).order_by("-created_at", "-id"))
    start, end = p.date_range(params)
    qs = qs.filter(created_at__gte=start, created_at__lte=end)
    codes = [c.upper() for c in p.values(params, "service_code")]
    if codes:
        qs = qs.filter(category__code__in=codes)
    states = states_for(p.statuses(params))
    if states is not None:
        qs = qs.filter(state__in=states)
    offset = (number - 1) * size
    return list(qs.order_by("-created_at", "-id")[offset : offset + size])


def request_get(code: str) -> Case:
    case = _base().filter(code=code).first()
    if case is None:
        raise NotFound(f"service_request_id「{code}」不存在", f"service_request_id '{code}' not found", code="request_not_found")
    return case


def token_get(token: str) -> Open311Request:
    link = Open311Request.objects.select_related("case").filter(token=token).first()
    if link is None:
        raise NotFound(f"token「{token}」不存在", f"token '{token}' not found", code="token_not_found")
    return link


def _link(case: Case) -> Open311Request | None:
    try:
        return case.open311
    except Open311Request.DoesNotExist:
        return None


def media_url(case: Case, request=None) -> str | None:
    link = _link(case)
    if link is not None and link.media_url:
        return link.media_url
    photos = [ph for ph in case.photos.all() if ph.kind == "report"]
    if photos and photos[0].public:
        url = photos[0].public.url
        return request.build_absolute_uri(url) if request is not None else url
    return None


def status_notes(case: Case) -> str:
    if case.state == "merged" and case.duplicate_of_id:
        return _("与案件 %(code)s 为同一问题，合并处理") % {"code": case.duplicate_of.code}
    if case.state in ("handled", "verified", "closed", "archived") and case.result_note:
        return f"{plain_words(case.state)}：{mask_personal(case.result_note)}"
    return plain_words(case.state)


def expected_datetime(case: Case):
    """The deadline of the step the case is in while it is open; nothing once it is closed."""
    if open311_status(case.state) == "closed":
        return None
    return case.deadline_at


def _coord(value: float) -> float:
    return round(value, int(conf.get("COORD_DECIMALS")))


def serialize_request(case: Case, *, request=None, extensions: bool = False) -> dict:
    department = case.lead_department or case.proposed_department
    address = case.address or "".join(x for x in (case.district_name, case.street_name, case.community_name) if x)
    item = {
        "service_request_id": case.code,
        "status": open311_status(case.state),
        "status_notes": status_notes(case),
        "service_name": _name(case.category),
        "service_code": case.category.code,
        "description": mask_personal(case.description),
        "agency_responsible": (department.name_en or department.name) if department and _english() else (department.name if department else None),
        "service_notice": _("处置时限 %(hours)s 个工作小时") % {"hours": f"{case.category.handle_limit_wh:g}"},
        "requested_datetime": case.created_at,
        "updated_datetime": case.state_changed_at or case.created_at,
        "expected_datetime": expected_datetime(case),
        "address": mask_personal(address),
        "address_id": case.region_code,
        "zipcode": None,
        "lat": _coord(case.lat),
        "long": _coord(case.lon),
        "media_url": media_url(case, request),
    }
    if extensions:
        link = _link(case)
        item["extended_attributes"] = {
            "status": extended_status(case.state),
            "state": case.state,
            "state_label": case.state_label(),
            "source": case.source,
            "district": case.district_name,
            "street": case.street_name,
            "supporting_reports": case.merged_reports,
            "attributes": link.attributes if link is not None else {},
        }
    return item


# --- servicerequestupdates (FixMyStreet extension) -------------------------------------------------------
# Timeline actions residents may read, and the text they read. Internal notes (reasons for a return, a
# void request…) are never published; only the result of handling is.
PUBLIC_ACTIONS = {
    "report", "register", "ask_check", "check", "void_approve", "void_reject", "dispatch", "accept",
    "return_approve", "suspend_approve", "resume", "extend_approve", "handle", "verify", "rework", "close",
    "follow_up", "reopen", "self_handle", "claim", "escalate", "merge", "open311_update",
}


def _update_text(entry: TimelineEntry, case: Case) -> str:
    if entry.action in ("handle", "self_handle") and entry.note:
        return f"{plain_words(entry.to_state)}：{mask_personal(entry.note)}"
    if entry.action == "open311_update":
        return mask_personal(entry.note)
    if entry.action == "merge":
        return _("与案件 %(code)s 为同一问题，合并处理") % {"code": entry.params.get("into", "")}
    return plain_words(entry.to_state or case.state)


def update_list(params) -> list[dict]:
    """Updates (timeline entries that residents may read) in a window of at most 90 days."""
    number, size = p.page(params)
    start, end = p.date_range(params)
    entries = TimelineEntry.objects.filter(
        subject_type=Case._meta.label_lower, action__in=PUBLIC_ACTIONS, at__gte=start, at__lte=end
    )
    ids = p.values(params, "service_request_id")
    cases_by_id: dict[str, Case]
    if ids:
        cases = {str(c.pk): c for c in _base().filter(code__in=ids)}
        entries = entries.filter(subject_id__in=list(cases))
    entries = list(entries.order_by("at", "id")[(number - 1) * size : number * size])
    wanted = {e.subject_id for e in entries}
    cases_by_id = {str(c.pk): c for c in _base().filter(pk__in=[int(i) for i in wanted])}
    out = []
    for entry in entries:
        case = cases_by_id.get(entry.subject_id)
        if case is None:  # a private category
            continue
        state = entry.to_state or case.state
        out.append(
            {
                "update_id": str(entry.pk),
                "service_request_id": case.code,
                "status": extended_status(state).upper(),
                "updated_datetime": entry.at,
                "description": _update_text(entry, case),
                "media_url": entry.params.get("media_url") or None,
                "external_status_code": state,
            }
        )
    return out
