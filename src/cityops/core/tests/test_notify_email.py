"""The e-mail channel of the notifications (core.notify.EmailBackend) sends only the kinds of CITYOPS_EMAIL_KINDS —
by default the briefings — through Django's mail (its locmem backend here); every kind still gets its inbox row."""

import pytest
from django.core import mail

from cityops.core import roles
from cityops.core.models import Notification
from cityops.core.notify import emails_kind, emails_on, notify

pytestmark = pytest.mark.django_db

KINDS = ("briefing", "early_warning", "case_overdue", "case_remind", "iot_alarm_raised")


@pytest.fixture
def mailbox(settings):
    settings.CITYOPS_NOTIFY_BACKENDS = ["cityops.core.notify.EmailBackend"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CITYOPS_SITE_URL = "https://cityops.example"
    mail.outbox.clear()
    return mail.outbox


@pytest.fixture
def leader(make_user):
    return make_user("t_mail_leader", roles.LEADER, email="leader@example.org")


def _send_every_kind(user):
    for kind in KINDS:
        notify(recipients=[user], kind=kind, title=f"标题 {kind}", body="正文", url=f"/x/{kind}/")


def _mailed(outbox) -> list[str]:
    return [m.subject.removeprefix("标题 ") for m in outbox]


def test_by_default_only_the_briefings_are_emailed(mailbox, leader, settings):
    if hasattr(settings, "CITYOPS_EMAIL_KINDS"):
        del settings.CITYOPS_EMAIL_KINDS  # the default, as a deployment without the variable has it
    _send_every_kind(leader)
    assert _mailed(mailbox) == ["briefing"]
    assert mailbox[0].to == ["leader@example.org"] and "https://cityops.example/x/briefing/" in mailbox[0].body
    assert Notification.objects.filter(recipient=leader).count() == len(KINDS)  # the inbox gets them all


def test_the_setting_names_kinds_prefixes_or_everything(mailbox, leader, settings):
    settings.CITYOPS_EMAIL_KINDS = ["briefing", "case_*"]
    _send_every_kind(leader)
    assert _mailed(mailbox) == ["briefing", "case_overdue", "case_remind"]
    mailbox.clear()
    settings.CITYOPS_EMAIL_KINDS = ["*"]
    _send_every_kind(leader)
    assert _mailed(mailbox) == list(KINDS)
    mailbox.clear()
    settings.CITYOPS_EMAIL_KINDS = []  # e-mail for nothing: the backend may stay configured
    _send_every_kind(leader)
    assert mailbox == []
    settings.CITYOPS_EMAIL_KINDS = "early_warning, iot_alarm_*"  # as a comma-separated string, too
    assert [k for k in KINDS if emails_kind(k)] == ["early_warning", "iot_alarm_raised"]


def test_emails_on_says_whether_a_kind_goes_out_by_mail(settings):
    settings.CITYOPS_EMAIL_KINDS = ["briefing"]
    settings.CITYOPS_NOTIFY_BACKENDS = ["cityops.core.notify.ConsoleBackend"]
    assert not emails_on("briefing")  # no e-mail channel at all
    settings.CITYOPS_NOTIFY_BACKENDS = ["cityops.core.notify.ConsoleBackend", "cityops.core.notify.EmailBackend"]
    assert emails_on("briefing") and not emails_on("early_warning")


def test_the_settings_default_is_the_briefings_only():
    from django.conf import settings

    assert list(settings.CITYOPS_EMAIL_KINDS) == ["briefing"]
