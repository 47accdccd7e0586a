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


def agreement_signed(dispute, actor, params) -> None:
    """The agreement is signed by every party (人民调解法 §29: signed, sealed) before both apply for confirmation."""
    from cityops.disputes.models import Signature

    parties = set(dispute.parties.values_list("pk", flat=True))
    signed = set(Signature.objects.filter(agreement__dispute=dispute).values_list("party_id", flat=True))
    missing = sorted(parties - signed)
    if missing:
        raise refuse("调解协议尚未由全体当事人签署，不能申请司法确认",
                     "Not every party has signed the agreement: judicial confirmation cannot be requested yet",
                     code="agreement_unsigned")
