"""Notifications: an in-app inbox row for each recipient, then delivery through pluggable backends
(email/SMS in production; the console backend prints). Sent after the transaction commits."""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from cityops.core.models import Notification

logger = logging.getLogger(__name__)


class ConsoleBackend:
    """Writes each message to the log; the default, so demos show what would be sent."""

    def send(self, notification: Notification) -> None:
        logger.info("notify %s: %s — %s", notification.recipient, notification.title, notification.body)


EMAIL_KINDS_DEFAULT = ("briefing",)


def email_kinds() -> list[str]:
    """The notification kinds sent by e-mail (settings.CITYOPS_EMAIL_KINDS): kind names (briefing, early_warning,
    case_overdue, iot_alarm_raised …), a name ending in * for every kind it begins (case_*), or * for all.
    Default: the briefings only — the other kinds are frequent, and the inbox carries them."""
    kinds = getattr(settings, "CITYOPS_EMAIL_KINDS", EMAIL_KINDS_DEFAULT)
    if isinstance(kinds, str):
        kinds = kinds.split(",")
    return [k.strip() for k in kinds if k and k.strip()]


def emails_kind(kind: str) -> bool:
    """Whether a notification of `kind` goes out by e-mail: listed in CITYOPS_EMAIL_KINDS."""
    for pattern in email_kinds():
        if pattern == "*" or pattern == kind or (pattern.endswith("*") and kind.startswith(pattern[:-1])):
            return True
    return False


def emails_on(kind: str) -> bool:
    """Whether the configured backends e-mail a notification of `kind` (EmailBackend on, the kind listed)."""
    paths = getattr(settings, "CITYOPS_NOTIFY_BACKENDS", [])
    return any(import_string(p) is EmailBackend for p in paths) and emails_kind(kind)


class EmailBackend:
    """Sends the notification by e-mail through Django's mail (EMAIL_BACKEND; tests use its locmem backend) to
    recipients with an e-mail address, for the kinds of CITYOPS_EMAIL_KINDS (`emails_kind`; default: briefings
    only); other kinds and recipients without an address keep the inbox row only. The link is absolute:
    CITYOPS_SITE_URL + the notification's url (a page behind the login, so nothing personal travels in the mail)."""

    def send(self, notification: Notification) -> None:
        from django.core.mail import send_mail

        address = getattr(notification.recipient, "email", "")
        if not address or not emails_kind(notification.kind):
            return
        body = notification.body
        if notification.url:
            site = getattr(settings, "CITYOPS_SITE_URL", "").rstrip("/")
            body = f"{body}\n\n{site}{notification.url}".strip()
        send_mail(notification.title, body, None, [address])


def _backends():
    paths = getattr(settings, "CITYOPS_NOTIFY_BACKENDS", ["cityops.core.notify.ConsoleBackend"])
    return [import_string(p)() for p in paths]


def notify(*, recipients: Iterable, kind: str, title: str, body: str = "", subject=None, url: str = "") -> list[Notification]:
    subject_type = subject._meta.label_lower if subject is not None else ""
    subject_id = str(subject.pk) if subject is not None else ""
    now = timezone.now()  # explicit, so a simulated clock stamps notifications too
    rows = [
        Notification(created_at=now, recipient=r, kind=kind, title=title[:200], body=body, url=url, subject_type=subject_type, subject_id=subject_id)
        for r in {r.pk: r for r in recipients if r is not None}.values()
    ]
    created = Notification.objects.bulk_create(rows)
    for backend in _backends():
        for n in created:
            try:
                backend.send(n)
            except Exception:  # a failing channel must not lose the inbox row
                logger.exception("notification backend %s failed", type(backend).__name__)
    Notification.objects.filter(pk__in=[n.pk for n in created if n.pk]).update(sent_at=timezone.now())
    return created


def mark_read(*, user, pk: int | None = None) -> int:
    """Mark the user's notification `pk` (or, without one, all their unread ones) read now; how many changed.
    Only the recipient's own rows: another person's notification is left as it is (and counts 0)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if pk is not None:
        qs = qs.filter(pk=pk)
    return qs.update(read_at=timezone.now())
