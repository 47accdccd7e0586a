from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cityops.core"
    label = "core"
    verbose_name = "核心"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from cityops.core import calendar, checks, security  # noqa: F401  (registers the system checks)
        from cityops.core.models import CalendarAdjustment, CalendarNotice

        for model in (CalendarAdjustment, CalendarNotice):
            for signal in (post_save, post_delete):
                signal.connect(calendar.adjustment_changed, sender=model, dispatch_uid=f"calendar_{model.__name__}")
