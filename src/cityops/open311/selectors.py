"""Every read of the Open311 facade. All of it is public (GeoReport v2 GETs need no key), so nothing
personal is ever read into an answer: no phone, e-mail, name, device or account of a reporter; phone
numbers and e-mail addresses typed into a description are masked too.
"""

from __future__ import annotations

import re

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cityops.cases.models import Case, CasePhoto, Category
from cityops.core.errors import NotFound
from cityops.core.models import TimelineEntry, state_label_for
from cityops.open311 import conf
from cityops.open311 import params as p
from cityops.open311.models import Open311Request, ServiceAttribute
from cityops.open311.status import CLOSED_STATES, extended_status, plain_words, states_for

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)\d{4}(\d{3,4})(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


# Both number patterns need a run of at least 7 digits (a landline's 4 + 3 after its optional dash) and an
# address needs an @: most texts have neither and skip the substitutions.
_DIGITS7 = re.compile(r"\d{7}")


def mask_personal(text: str) -> str:
    """Mobile and landline numbers → 138****5678; e-mail addresses → ***@***."""
    text = text or ""
    if _DIGITS7.search(text):
        text = _PHONE.sub(r"\1****\2", text)
        text = _LANDLINE.sub(r"\1****\2", text)
    if "@" in text:
        text = _EMAIL.sub("***@***", text)
    return text


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
    category = (
        Category.objects.filter(code=(code or "").strip().upper(), active=True)
        .only("id", "code", "name_zh", "handle_limit_wh")
        .first()
    )
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
# GET requests reads one row per case as plain values (no model instances, no per-row query): the case's
# own columns, its category and department names through joins, the Open311 link through the reverse
# one-to-one join, and the first report photo of every listed case in one more query.
_ROW = (
    "id", "code", "state", "state_changed_at", "created_at", "deadline_at", "description", "result_note",
    "address", "district_name", "street_name", "community_name", "region_code", "lat", "lon",
    "category__code", "category__name_zh", "category__name_en", "category__handle_limit_wh",
    "lead_department_id", "lead_department__name", "lead_department__name_en",
    "proposed_department__name", "proposed_department__name_en",
    "duplicate_of_id", "duplicate_of__code", "open311__id", "open311__media_url",
)
_ROW_EXTENSIONS = ("source", "merged_reports", "open311__attributes")


def _public_cases() -> QuerySet[Case]:
    return Case.objects.exclude(category__code__in=private_codes())


def _rows(qs: QuerySet[Case], extensions: bool) -> list[dict]:
    return list(qs.values(*_ROW, *_ROW_EXTENSIONS) if extensions else qs.values(*_ROW))


def _report_photos(case_ids: list[int]) -> dict[int, str]:
    """case id → the stored name of its first report photo ("" when that photo has no public file)."""
    first: dict[int, str] = {}
    if case_ids:
        photos = CasePhoto.objects.filter(case_id__in=case_ids, kind=CasePhoto.Kind.REPORT).order_by("case_id", "id")
        for case_id, name in photos.values_list("case_id", "public"):
            first.setdefault(case_id, name or "")
    return first


def request_list(params, *, request=None, extensions: bool = False) -> list[dict]:
    """GET requests: service_request_id (comma list) overrides every other argument; otherwise service_code,
    status and a requested_datetime window of at most 90 days; the first 1000, newest first."""
    number, size = p.page(params)
    ids = p.values(params, "service_request_id")
    qs = _public_cases()
    if ids:
        qs = qs.filter(code__in=ids[: int(conf.get("MAX_ROWS"))]).order_by("-created_at", "-id")
    else:
        start, end = p.date_range(params)
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
        codes = [c.upper() for c in p.values(params, "service_code")]
        if codes:
            qs = qs.filter(category__code__in=codes)
        states = states_for(p.statuses(params))
        if states is not None:
            qs = qs.filter(state__in=states)
        offset = (number - 1) * size
        qs = qs.order_by("-created_at", "-id")[offset : offset + size]
    return RequestSerializer(request=request, extensions=extensions).many(_rows(qs, extensions))


def request_get(code: str, *, request=None, extensions: bool = False) -> dict:
    rows = _rows(_public_cases().filter(code=code)[:1], extensions)
    if not rows:
        raise NotFound(f"service_request_id「{code}」不存在", f"service_request_id '{code}' not found", code="request_not_found")
    return RequestSerializer(request=request, extensions=extensions).many(rows)[0]


def token_get(token: str) -> Open311Request:
    link = Open311Request.objects.select_related("case").filter(token=token).first()
    if link is None:
        raise NotFound(f"token「{token}」不存在", f"token '{token}' not found", code="token_not_found")
    return link


def service_notice(handle_limit_wh: float) -> str:
    return _("处置时限 %(hours)s 个工作小时") % {"hours": f"{handle_limit_wh:g}"}


def _merged_note(code: str) -> str:
    return _("与案件 %(code)s 为同一问题，合并处理") % {"code": code}


_NOTE_STATES = frozenset({"handled", "verified", "closed", "archived"})


class _Memo(dict):
    """fn(key), worked out once per key: called like the function."""

    def __init__(self, fn) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, key):
        value = self[key] = self.fn(key)
        return value

    __call__ = dict.__getitem__


class RequestSerializer:
    """GeoReport v2 request documents from value rows. Whatever depends only on the language or on a
    category/state (names, translated words, the notice) is worked out once per answer, not once per row;
    datetimes leave as W3C strings, so the renderers have nothing left to convert."""

    def __init__(self, *, request=None, extensions: bool = False):
        self.request = request
        self.extensions = extensions
        self.english = _english()
        self.decimals = int(conf.get("COORD_DECIMALS"))
        self.tz = timezone.get_current_timezone()
        # Per answer (one language): each state's words and label, each limit's notice, worked out once.
        self.plain = _Memo(plain_words)
        self.label = _Memo(lambda state: state_label_for(Case.workflow, state))
        self.notice = _Memo(service_notice)
        self._photo_storage = CasePhoto._meta.get_field("public").storage

    def _w3c(self, value):
        return None if value is None else value.astimezone(self.tz).isoformat(timespec="seconds")

    def status_notes(self, row: dict) -> str:
        state = row["state"]
        if state == "merged" and row["duplicate_of_id"]:
            return _merged_note(row["duplicate_of__code"])
        if state in _NOTE_STATES and row["result_note"]:
            return f"{self.plain(state)}：{mask_personal(row['result_note'])}"
        return self.plain(state)

    def many(self, rows: list[dict]) -> list[dict]:
        photos = _report_photos([r["id"] for r in rows if not (r["open311__id"] is not None and r["open311__media_url"])])
        return [self.one(row, photos) for row in rows]

    def one(self, row: dict, photos: dict[int, str]) -> dict:
        english = self.english
        state = row["state"]
        closed = state in CLOSED_STATES
        if row["lead_department_id"] is not None:
            dep_name, dep_name_en = row["lead_department__name"], row["lead_department__name_en"]
        else:
            dep_name, dep_name_en = row["proposed_department__name"], row["proposed_department__name_en"]
        agency = (dep_name_en or dep_name) if english and dep_name is not None else dep_name
        address = row["address"] or "".join(x for x in (row["district_name"], row["street_name"], row["community_name"]) if x)
        media = None
        if row["open311__id"] is not None and row["open311__media_url"]:
            media = row["open311__media_url"]
        else:
            name = photos.get(row["id"])
            if name:
                url = self._photo_storage.url(name)
                media = self.request.build_absolute_uri(url) if self.request is not None else url
        created = self._w3c(row["created_at"])
        item = {
            "service_request_id": row["code"],
            "status": "closed" if closed else "open",
            "status_notes": self.status_notes(row),
            "service_name": (row["category__name_en"] or row["category__name_zh"]) if english else row["category__name_zh"],
            "service_code": row["category__code"],
            "description": mask_personal(row["description"]),
            "agency_responsible": agency,
            "service_notice": self.notice(row["category__handle_limit_wh"]),
            "requested_datetime": created,
            "updated_datetime": self._w3c(row["state_changed_at"]) if row["state_changed_at"] else created,
            "expected_datetime": None if closed else self._w3c(row["deadline_at"]),
            "address": mask_personal(address),
            "address_id": row["region_code"],
            "zipcode": None,
            "lat": round(row["lat"], self.decimals),
            "long": round(row["lon"], self.decimals),
            "media_url": media,
        }
        if self.extensions:
            item["extended_attributes"] = {
                "status": extended_status(state),
                "state": state,
                "state_label": self.label(state),
                "source": row["source"],
                "district": row["district_name"],
                "street": row["street_name"],
                "supporting_reports": row["merged_reports"],
                "attributes": row["open311__attributes"] if row["open311__id"] is not None else {},
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


def _update_text(entry: TimelineEntry, case_state: str) -> str:
    if entry.action in ("handle", "self_handle") and entry.note:
        return f"{plain_words(entry.to_state)}：{mask_personal(entry.note)}"
    if entry.action == "open311_update":
        return mask_personal(entry.note)
    if entry.action == "merge":
        return _merged_note(entry.params.get("into", ""))
    return plain_words(entry.to_state or case_state)


def update_list(params) -> list[dict]:
    """Updates (timeline entries that residents may read) in a window of at most 90 days."""
    number, size = p.page(params)
    start, end = p.date_range(params)
    entries = TimelineEntry.objects.filter(
        subject_type=Case._meta.label_lower, action__in=PUBLIC_ACTIONS, at__gte=start, at__lte=end
    )
    ids = p.values(params, "service_request_id")
    if ids:
        chosen = [str(pk) for pk in _public_cases().filter(code__in=ids).values_list("pk", flat=True)]
        entries = entries.filter(subject_id__in=chosen)
    entries = list(entries.order_by("at", "id")[(number - 1) * size : number * size])
    wanted = {int(e.subject_id) for e in entries}
    cases_by_id = {str(pk): (code, state) for pk, code, state in _public_cases().filter(pk__in=wanted).values_list("pk", "code", "state")}
    out = []
    for entry in entries:
        case = cases_by_id.get(entry.subject_id)
        if case is None:  # a private category
            continue
        code, case_state = case
        state = entry.to_state or case_state
        out.append(
            {
                "update_id": str(entry.pk),
                "service_request_id": code,
                "status": extended_status(state).upper(),
                "updated_datetime": entry.at,
                "description": _update_text(entry, case_state),
                "media_url": entry.params.get("media_url") or None,
                "external_status_code": state,
            }
        )
    return out
