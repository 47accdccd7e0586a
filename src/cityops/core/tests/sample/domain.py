"""The street-works permit domain beyond its models and workflow (docs/new-domain.md): its scope, the one
service that differs from a bare transition, its pages, its API and its evaluation — nothing else."""

from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router
from ninja.responses import Status

from cityops.core import actions, pages
from cityops.core.evaluation import indicators
from cityops.core.schemas import Id, Schema
from cityops.core.tests.sample.models import Permit
from cityops.core.workflow import transition


def permit_list(user):
    """Staff see every permit; an applicant sees their own."""
    return Permit.objects.all() if user.role_codes else Permit.objects.filter(applicant=user)


def permit_withdraw(*, permit, actor, reason: str) -> Permit:
    return transition(permit, "withdraw", actor, note=reason, params={"reason": reason})


urlpatterns = pages.domain_urls(Permit, scoped=permit_list, title="占道施工许可", name="permit",
                                columns=[("title", "事项"), ("unit_code", "审批单位"), ("region_code", "区域")])

router = Router(tags=["permits"])


class PermitOut(Schema):
    id: int
    title: str
    state: str
    version: int


def _load(request, permit_id):
    return get_object_or_404(permit_list(request.auth), pk=permit_id)


@router.get("/{permit_id}", response=PermitOut)
def get_permit(request, permit_id: Id):
    return _load(request, permit_id)


actions.add_action_routes(router, Permit, path="/{permit_id}", keys={"permit_id": Id}, load=_load,
                          answer=lambda request, permit, status: Status(status, permit), response={200: PermitOut})


@router.get("/evaluation/units")
def evaluation(request, days: int = 30):
    return indicators(Permit, start=timezone.now() - timedelta(days=days), end=timezone.now())
