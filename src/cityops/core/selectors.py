from cityops.core.models import Notification


def notification_list(*, user):
    """A user's own inbox; nobody reads another person's notifications."""
    return Notification.objects.filter(recipient=user).order_by("-created_at")
