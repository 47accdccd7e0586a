"""The admin: a committee's remit is set there (routing reads it), only for a committee, and on the timeline;
disputes are read-only there and show no party's personal data."""

import pytest

from cityops.accounts.models import OrgUnit
from cityops.core.models import TimelineEntry
from cityops.disputes.models import CommitteeRemit

pytestmark = pytest.mark.django_db


def test_every_disputes_admin_page_opens(admin_client):
    for path in ("committeeremit", "referrer", "dispute", "campaign"):
        assert admin_client.get(f"/admin/disputes/{path}/").status_code == 200
    assert admin_client.get("/admin/disputes/committeeremit/add/").status_code == 200
    assert admin_client.get("/admin/disputes/dispute/add/").status_code == 403  # only through its actions


def test_a_remit_is_set_for_a_committee_only_and_on_the_timeline(admin_client):
    committee = OrgUnit.objects.create(code="T-ADM-WY", name="物业纠纷人民调解委员会", kind="committee")
    street = OrgUnit.objects.create(code="T-ADM-ST", name="某街道办事处", kind="street")
    refused = admin_client.post("/admin/disputes/committeeremit/add/",
                                {"committee": street.pk, "channel": "industry", "kinds": ["property"]})
    assert refused.status_code == 200 and "只能为调解委员会设置职能" in refused.content.decode()
    assert not CommitteeRemit.objects.exists()

    done = admin_client.post("/admin/disputes/committeeremit/add/",
                             {"committee": committee.pk, "channel": "industry", "kinds": ["property"]})
    assert done.status_code == 302
    remit = CommitteeRemit.objects.get(committee=committee)
    assert remit.channel == "industry" and remit.kinds == ["property"]
    assert TimelineEntry.objects.filter(subject_type="disputes.committeeremit", subject_id=str(remit.pk)).exists()
