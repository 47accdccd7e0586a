"""Who is told about a dispute, and what the notice says; sent once the step commits (STYLE.md: side effects
on commit)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from cityops.core import roles
from cityops.core.notify import notify
from cityops.disputes.models import Dispute, Party


def users_in(unit_id: int, role: str):
    return get_user_model().objects.filter(org_units=unit_id, groups__name=role, is_active=True).distinct()


def role_users(role: str):
    return get_user_model().objects.filter(groups__name=role, is_active=True).distinct()


def notify_later(recipients_fn, kind: str, title: str, dispute: Dispute, body: str = "") -> None:
    pk = dispute.pk

    def send():
        notify(recipients=list(recipients_fn()), kind=kind, title=title, body=body or dispute_body(dispute),
               subject=dispute, url=f"/disputes/{pk}/")

    transaction.on_commit(send)


def dispute_body(dispute: Dispute) -> str:
    """What a notification about a dispute says besides its title: type, risk, where, the description's start."""
    text = " ".join((dispute.description or "").split())
    lines = [f"{dispute.get_kind_display()} · 风险{dispute.get_risk_level_display()} · {dispute.address}".strip(" ·"),
             text[:120] + ("…" if len(text) > 120 else "")]
    return "\n".join(line for line in lines if line)


def party_users(dispute_pk: int):
    model = get_user_model()
    return model.objects.filter(is_active=True).filter(
        pk__in=list(Party.objects.filter(dispute_id=dispute_pk, user__isnull=False).values_list("user_id", flat=True))
        + list(Dispute.objects.filter(pk=dispute_pk, applicant__isnull=False).values_list("applicant_id", flat=True)))


def escalation_recipients(dispute: Dispute):
    """Who is alerted at once when a dispute is escalated (§25): every police liaison of its centre, and every
    leader."""
    liaisons = list(users_in(dispute.centre_id, roles.POLICE_LIAISON)) if dispute.centre_id else []
    return liaisons + list(role_users(roles.LEADER))

