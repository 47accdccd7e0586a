"""Names, never codes or logins (issue 13), on every object page core draws (core.pages): each step by its
workflow's name, the state it led to by its label, who took it by display name."""

import re

import pytest
from django.test import Client

from cityops.core import actions
from cityops.core.tests.sample.models import Permit
from cityops.core.workflow import create_with_timeline

pytestmark = pytest.mark.django_db


def test_the_generic_object_page_names_steps_states_and_people(make_user, dispatcher):
    dispatcher.first_name = "派遣员 张伟"
    dispatcher.save()
    applicant = make_user("t_applicant")
    permit = create_with_timeline(Permit(title="管线抢修占道", applicant=applicant, unit_code="JT", region_code="420106"),
                                  actor=applicant)
    actions.run_action(permit, "publish", dispatcher, {})
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(dispatcher)
    html = client.get(f"/permits/{permit.pk}/").content.decode()
    timeline = re.search(r'<ol class="timeline">.*?</ol>', html, re.S).group(0)
    assert "<strong>公示</strong>" in timeline and "派遣员 张伟" in timeline
    assert "<strong>publish</strong>" not in timeline and "t_dispatcher" not in timeline
    assert "t_applicant" in timeline  # an account without a name is shown by its login: nothing better to show
