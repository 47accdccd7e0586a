"""Every write of a dispute (RULES.md §2), one module per responsibility. Each write is one transaction; a refusal
is a coded bilingual error and leaves nothing written.

- intake: receiving a dispute from every channel — checks, the repeat found, creation with its parties and the
  first timeline entry; the hotline's link from a city case; the referring body behind a service account;
- hooks: what the workflow engine calls on each step (workflow.py names them), and the risk level;
- notifications: who is told, and what the notice says, after commit.

Callers use the package (`from cityops.disputes import services; services.register_dispute(...)`): the public
services are re-exported here, and the workflow's hooks name them by this path.
"""

from cityops.disputes.services.hooks import (
    RISK_ORDER,
    RISK_ROLES,
    accept,
    agree,
    assign,
    escalate,
    extend,
    follow_up,
    note_reason,
    raise_risk,
    refer,
    refuse,
    request_confirmation,
    terminate,
)
from cityops.disputes.services.intake import (
    CASE_LINK_ROLES,
    CASE_SOURCES,
    MAX_AMOUNT,
    MAX_PARTIES,
    REFERRAL_SOURCES,
    SOURCE_ROLES,
    dispute_from_case,
    referrer_of,
    register_dispute,
)
from cityops.disputes.services.notifications import dispute_body, escalation_recipients

__all__ = [
    "CASE_LINK_ROLES", "CASE_SOURCES", "MAX_AMOUNT", "MAX_PARTIES", "REFERRAL_SOURCES", "RISK_ORDER", "RISK_ROLES",
    "SOURCE_ROLES", "accept", "agree", "assign", "dispute_body", "dispute_from_case", "escalate",
    "escalation_recipients", "extend", "follow_up", "note_reason", "raise_risk", "refer", "referrer_of", "refuse",
    "register_dispute", "request_confirmation", "terminate",
]
