from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "cityops.portal"
    label = "portal"
    verbose_name = "市民门户"

    def home_url(self, user) -> str | None:
        """A resident's home is the portal (report, my reports, track, map), not the staff workbench (core.home):
        a user whose only role is resident."""
        from django.urls import reverse

        from cityops.core import roles

        return reverse("portal:home") if user.role_codes == {roles.RESIDENT} else None
