"""Every read of the hotline app: suggestions for a call, the category table, corrections, recent calls."""

from __future__ import annotations

import csv
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.db.models import QuerySet

from cityops.core.errors import InvalidInput
from cityops.hotline.models import HotlineCall

MAX_TEXT = 4000
CATEGORIES_CSV = Path(__file__).resolve().parents[1] / "cases" / "data" / "categories.csv"
CONSULTATION_WORDS = ("咨询", "请问", "问一下", "想了解", "怎么办理", "能不能告诉")
SUGGESTION_WORDS = ("建议", "希望增设", "能不能增加")
# Danger now: the call is urgent whatever its category (RULES.md §1: urgent work orders are handled the same day).
URGENT_WORDS = ("着火", "起火", "冒烟", "爆炸", "煤气味", "燃气味", "漏气", "有人受伤", "有人被困", "被困", "塌了",
                "塌陷", "触电", "电线掉", "爆管", "淹了", "倒了压", "快来人", "救命")
FILLER_WORDS = ("喂", "你好", "您好", "请问", "嗯", "啊", "哦", "呃", "那个", "就是", "是不是", "0", "听得到吗")  # digits are 0 after normalize


@dataclass(frozen=True)
class CategoryInfo:
    code: str
    name: str
    department: str
    urgent: bool


class _Categories:
    """code → CategoryInfo from the cases.Category table (the taxonomy operators edit), falling back to the
    shipped CSV before the table is loaded; re-read at most once a minute."""

    def __init__(self) -> None:
        self.table: dict[str, CategoryInfo] = {}
        self.read_at = -1e9
        self.lock = threading.Lock()

    def get(self) -> dict[str, CategoryInfo]:
        if time.monotonic() - self.read_at > 60 or not self.table:
            with self.lock:
                self.table = _read_categories()
                self.read_at = time.monotonic()
        return self.table

    def forget(self) -> None:
        self.read_at = -1e9


def _read_categories() -> dict[str, CategoryInfo]:
    try:
        from cityops.cases.models import Category

        rows = list(Category.objects.filter(active=True).values_list("code", "name_zh", "department_code", "urgent"))
    except Exception:  # cases app or its table not there yet
        rows = []
    if rows:
        return {code: CategoryInfo(code, name, dept, urgent) for code, name, dept, urgent in rows}
    with CATEGORIES_CSV.open(encoding="utf-8") as f:
        return {
            r["code"]: CategoryInfo(r["code"], r["name_zh"], r["department"], r["urgent"].strip() in ("1", "true"))
            for r in csv.DictReader(f)
        }


categories = _Categories()


def route_department(category_code: str, region_code: str | None) -> str:
    """Department code for a category in a region: the cases app's routing rules (a district's own bureau
    overrides the city default) when a region is known, else the category's default department."""
    info = categories.get().get(category_code)
    default = info.department if info else ""
    if not region_code:
        return default
    try:
        from cityops.cases.models import Category, RoutingRule
        from cityops.cases.services import route_department as cases_route

        if not RoutingRule.objects.filter(active=True).exists():
            return default
        category = Category.objects.filter(code=category_code).first()
        if category is None:
            return default
        unit = cases_route(category=category, region_code=region_code)
        return unit.code if unit is not None else default
    except ImportError:  # pragma: no cover - cases is installed
        return default


def guess_urgency(text: str, category_code: str | None) -> str:
    """urgent when the caller speaks of danger now (URGENT_WORDS) or the category found with confidence is an
    urgent one (a gas leak, a missing manhole cover …); otherwise normal — never urgent by default."""
    if any(w in text for w in URGENT_WORDS):
        return "urgent"
    info = categories.get().get(category_code) if category_code else None
    return "urgent" if info is not None and info.urgent else "normal"


def guess_kind(text: str, category_code: str | None, urgency: str) -> str:
    """The 12345 work-order type to propose (the operator decides): urgent → urgent, questions → consultation,
    proposals → suggestion, a city matter → complaint; "" (the operator chooses) for a call that is no city
    matter or empty."""
    if urgency == "urgent":
        return HotlineCall.Kind.URGENT
    if any(w in text for w in CONSULTATION_WORDS):
        return HotlineCall.Kind.CONSULTATION
    if any(w in text for w in SUGGESTION_WORDS):
        return HotlineCall.Kind.SUGGESTION
    return HotlineCall.Kind.COMPLAINT if category_code else ""


def check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("请填写来电内容", "The text of the call is empty", code="empty_text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"来电内容过长（最多 {MAX_TEXT} 字）", f"The text is too long (max {MAX_TEXT} characters)",
                           code="text_too_long")
    return text


def is_empty_call(text: str) -> bool:
    """Nothing said but greetings and fillers ("喂？喂？", "嗯……")."""
    from cityops.hotline.classifier import normalize

    rest = normalize(text)
    for filler in FILLER_WORDS:
        rest = rest.replace(filler, "")
    return len(rest.replace(" ", "")) < 2


def _parsed_region(text: str, address: str):
    """The address field parsed, or — when it names no place — the call text: (parsed, "address" | "text")."""
    from cityops.geo.selectors import parse_address

    for source, value in (("address", address), ("text", text)):
        if value:
            parsed = parse_address(text=value)
            if parsed.location is not None or parsed.candidates:
                return parsed, source
    return None, None


def suggest(*, text: str, address: str = "", k: int = 3) -> dict:
    """Top-k categories with calibrated probability and department, the suggested category (None when the
    call is uncertain or no city matter: the operator chooses), urgency and work-order type, and the region and
    point parsed from the address field or, when it names no place, from the call text (POST /dispatch/suggest).
    An empty call (nothing but greetings) gets no category, normal urgency and no type."""
    from cityops.hotline.classifier import get_model

    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        check_text(text)
    address = (address or "").strip()[:300]
    parsed, source = _parsed_region(text, address)
    region = parsed.region_dict() if parsed else None
    if region is not None:
        region["source"] = source
    location = parsed.location if parsed else None
    region_code = location.deepest.code if location is not None and location.deepest is not None else None
    table = categories.get()
    empty = is_empty_call(text)
    candidates, uncertain, not_city = [], True, 0.0
    if not empty:
        assessment = get_model().assess(text, k=k)
        uncertain, not_city = assessment.uncertain, assessment.not_city
        for code, score in assessment.top:
            info = table.get(code)
            candidates.append({
                "category": code,
                "name": info.name if info else code,
                "department": route_department(code, region_code),
                "score": round(score, 4),
            })
    category = None if uncertain or not candidates else candidates[0]["category"]
    urgency = "normal" if empty else guess_urgency(text, category)
    return {
        "candidates": candidates,
        "category": category,
        "uncertain": uncertain,
        "empty": empty,
        "not_city_score": round(not_city, 4),
        "urgency": urgency,
        "kind": "" if empty else guess_kind(text, category, urgency),
        "region": region,
        "point": parsed.point_dict() if parsed else None,
        "place": parsed.place.as_dict() if parsed and parsed.place else None,
    }


def possible_duplicates(*, category_code: str, point: dict | None, limit: int = 5) -> list[dict]:
    """Open cases of the category near the point within the duplicate window, nearest first — through the
    cases app's own rule (cases.services.duplicates_near)."""
    if not point:
        return []
    from cityops.cases.models import Category
    from cityops.cases.services import duplicates_near

    category = Category.objects.filter(code=category_code).first()
    if category is None:
        return []
    return [
        {"code": c.code, "state": c.state, "distance_m": c.distance_m, "description": c.description[:80],
         "created_at": c.created_at.isoformat()}
        for c in duplicates_near(category=category, lon=point["lon"], lat=point["lat"])[:limit]
    ]


def correction_pairs() -> list[tuple[str, str]]:
    """(text, chosen category) of every corrected call, oldest first (the latest wins in training)."""
    try:
        return list(HotlineCall.objects.filter(corrected=True).order_by("created_at", "id")
                    .values_list("text", "chosen_category"))
    except Exception:  # table missing (migrations not run): train on the corpus alone
        return []


def call_list(*, user, limit: int = 20) -> QuerySet[HotlineCall]:
    """Recent calls: operators and shift leads see all (city-wide intake roles), others only their own."""
    qs = HotlineCall.objects.all()
    if not (user.is_superuser or user.has_role("operator", "shift_lead", "admin", "leader")):
        qs = qs.filter(operator=user)
    return qs.select_related("operator")[:limit]
