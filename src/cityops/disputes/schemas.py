"""The inputs of the dispute actions (the API's bodies, the pages' forms). Data only: the workflow imports it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from cityops.core.schemas import Day, Id, Schema

Text = Annotated[str, Field(max_length=4000)]
Line = Annotated[str, Field(max_length=200)]

# Choice codes; labels are on the model's TextChoices (models.py), which keep their order.
CHANNELS = ("people", "administrative", "court_invited", "arbitration", "lawyer", "industry")
TERMINATION_REASONS = ("party_withdrew", "no_agreement", "party_absent", "beyond_scope", "litigation_started",
                       "other")
ROUTES = ("arbitration", "administrative", "court", "police", "petition")
CONSENT_METHODS = ("written", "recorded_call", "in_person", "tablet")


class DisputeAcceptIn(Schema):
    """受理并分流: the channel and committee the centre confirms (the routing suggestion pre-fills them)."""

    channel: Line
    committee_id: Id
    note: Text = ""


class RefuseIn(Schema):
    """A party refuses mediation (人民调解法 §17): who refused, and what they said."""

    party_id: Id
    reason: Text


class AssignIn(Schema):
    mediator_id: Id
    note: Text = ""


class Consent(Schema):
    party_id: Id
    method: Line  # one of CONSENT_METHODS
    note: Line = ""


class MediationExtendIn(Schema):
    """延长调解期限: only with every party's recorded consent."""

    extra_days: Annotated[int, Field(ge=1, le=90)]
    consents: list[Consent]
    reason: Text


class AgreementIn(Schema):
    """人民调解协议书: facts, terms, performance method and deadline."""

    facts: Text
    terms: Text
    performance_method: Line
    performance_deadline: Day | None = None


class ConfirmationRequestIn(Schema):
    court: Line
    note: Text = ""


class FollowUpIn(Schema):
    """回访: how the parties are after performance."""

    result: Text
    satisfied: bool = True


class TerminateIn(Schema):
    reason: Line  # one of TERMINATION_REASONS
    detail: Text = ""


class ReferIn(Schema):
    """告知途径并移交 (§26): the routes the parties were told of, and how they were told."""

    routes: list[Line]
    informed_how: Line
    note: Text = ""
