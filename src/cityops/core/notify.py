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


class EmailBackend:
    """Sends the notification by e-mail through Django's mail (EMAIL_BACKEND; tests use its locmem backend) to
    recipients with an e-mail address; others keep the inbox row only. The link is absolute: CITYOPS_SITE_URL +
    the notification's url (a page behind the login, so nothing personal travels in the mail)."""

    def send(self, notification: Notification) -> None:
        from django.core.mail import send_mail

        address = getattr(notification.recipient, "email", "")
        if not address:
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
