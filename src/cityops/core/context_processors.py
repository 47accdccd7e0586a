from django.conf import settings

from cityops.core import roles as role_codes
from cityops.core.selectors import unread_count


def cityops(request):
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    roles = sorted(user.role_codes) if signed_in else []
    found = []

    def unread_notifications() -> int:
        # Counted when a template shows it (the menu's badge), once per request.
        if not found:
            found.append(unread_count(user=user) if signed_in else 0)
        return found[0]

    return {
        "CITYOPS_ENV": settings.CITYOPS_ENV,
        "CITYOPS_TILE_URL": settings.CITYOPS_TILE_URL,
        "user_roles": roles,
        # Staff: any role but resident. A resident's menu is the portal's; staff items are not shown.
        "is_staff_user": bool(set(roles) - {role_codes.RESIDENT}),
        "unread_notifications": unread_notifications,
    }
