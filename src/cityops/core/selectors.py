from cityops.core.models import Notification


def notification_list(*, user):
    """A user's own inbox; nobody reads another person's notifications."""
    return Notification.objects.filter(recipient=user).order_by("-created_at")


def unread_count(*, user) -> int:
    """How many of the user's notifications are unread (the (recipient, read_at) index answers it)."""
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
