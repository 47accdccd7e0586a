"""Every write to cases (STYLE.md: keyword-only, actor on every write, atomic, side effects on commit), one
module per responsibility. Rules and sources: RULES.md §1.

- intake: a new report becomes a case (located, categorised, routed, coded, on the timeline);
- duplicates: open cases near a report, and merging one case into another;
- lifecycle: every step from registration to archive, through `_step` and core.workflow.transition;
- joint: sub-tasks of assisting departments and consultations;
- photos: which photo belongs to which step, and storing it;
- notifications: who is told, after commit.

Callers use the package (`from cityops.cases import services; services.case_register(...)`): the public
services are re-exported here, and the workflow's hooks name them by this path.
"""

from cityops.cases.services.duplicates import (
    DUPLICATE_MAX,
    DUPLICATE_SCAN_CAP,
    Nearby,
    case_duplicates,
    case_merge,
    duplicates_near,
)
from cityops.cases.services.intake import (
    DEFAULT_SOURCE,
    INTAKE_ROLES,
    REPORTER_ROLES,
    Intake,
    case_create,
    category_get,
    route_department,
)
from cityops.cases.services.joint import consultation_record, task_done, task_release
from cityops.cases.services.lifecycle import (
    MAX_LIMIT_HOURS,
    UNIT_KINDS,
    case_accept,
    case_ask_check,
    case_check,
    case_claim,
    case_close,
    case_dispatch,
    case_escalate,
    case_extend_decide,
    case_extend_request,
    case_follow_up,
    case_handle,
    case_register,
    case_resume,
    case_return,
    case_return_approve,
    case_self_handle,
    case_suspend_decide,
    case_suspend_request,
    case_verify,
    case_void_decide,
    case_void_request,
    what_en,
)
from cityops.cases.services.notifications import notify_overdue
from cityops.cases.services.photos import (
    PHOTO_STEPS,
    SIGNATURES,
    PhotoStep,
    case_photo_add,
    photo_check,
    photo_kinds_for,
    sniff_image,
    strip_metadata,
)

__all__ = [
    "DEFAULT_SOURCE", "DUPLICATE_MAX", "DUPLICATE_SCAN_CAP", "INTAKE_ROLES", "MAX_LIMIT_HOURS", "PHOTO_STEPS",
    "REPORTER_ROLES", "SIGNATURES", "UNIT_KINDS", "Intake", "Nearby", "PhotoStep", "case_accept",
    "case_ask_check", "case_check", "case_claim", "case_close", "case_create", "case_dispatch", "case_duplicates",
    "case_escalate", "case_extend_decide", "case_extend_request", "case_follow_up", "case_handle", "case_merge",
    "case_photo_add", "case_register", "case_resume", "case_return", "case_return_approve", "case_self_handle",
    "case_suspend_decide", "case_suspend_request", "case_verify", "case_void_decide", "case_void_request",
    "category_get", "consultation_record", "duplicates_near", "notify_overdue", "photo_check", "photo_kinds_for",
    "route_department", "sniff_image", "strip_metadata", "task_done", "task_release", "what_en",
]
