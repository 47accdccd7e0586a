"""The guards the dispute workflow names (workflow._guard): each raises a coded refusal, or returns."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from cityops.core.workflow import refuse
from cityops.disputes import workflow as dwf


def confirmation_deadline(dispute):
    """The last moment both parties may apply for judicial confirmation: 30 days after the agreement
    (人民调解法 §33), counted from the agreement's date (or, without one, from when the dispute was agreed)."""
    agreement = getattr(dispute, "agreement", None)
    start = agreement.created_at if agreement is not None else dispute.state_changed_at
    return start + timedelta(days=dwf.CONFIRMATION_WINDOW_DAYS)


def within_confirmation_window(dispute, actor, params) -> None:
    deadline = confirmation_deadline(dispute)
    if timezone.now() > deadline:
        local = timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")
        raise refuse(f"达成协议已超过 {dwf.CONFIRMATION_WINDOW_DAYS} 日（截至 {local}），不能再申请司法确认",
                     f"More than {dwf.CONFIRMATION_WINDOW_DAYS} days have passed since the agreement (until {local}): "
                     "judicial confirmation can no longer be requested",
                     code="confirmation_window_closed")
