from django.conf import settings


def cityops(request):
    user = getattr(request, "user", None)
    roles = sorted(user.role_codes) if user is not None and user.is_authenticated else []
    return {
        "CITYOPS_ENV": settings.CITYOPS_ENV,
        "CITYOPS_TILE_URL": settings.CITYOPS_TILE_URL,
        "user_roles": roles,
    }
