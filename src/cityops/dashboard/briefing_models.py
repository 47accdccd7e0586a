"""城市运行日报/周报/月报: one row per briefing made (briefings.py), its figures kept as JSON for the list and its files
(PDF and Excel) on a private storage — never below MEDIA_ROOT, served only through the scoped download view."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityops.core.storage import PrivateFiles


def briefing_files() -> PrivateFiles:
    """DATA_DIR/private/briefings, without a URL: a briefing names cases and their addresses."""
    return PrivateFiles("briefings")


class Briefing(models.Model):
    """A briefing of one period (a day, an ISO week from Monday, a month) for one region: the city (region_code
    ""), a district or a street. Made once per (kind, period, region) — a database constraint, so two workers
    cannot make it twice; a forced rerun replaces its files and figures in place."""

    class Kind(models.TextChoices):
        DAILY = "daily", _("日报")
        WEEKLY = "weekly", _("周报")
        MONTHLY = "monthly", _("月报")

    class Level(models.TextChoices):
        CITY = "city", _("市")
        DISTRICT = "district", _("区")
        STREET = "street", _("街道")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    region_code = models.CharField(_("区域编码"), max_length=12, blank=True, db_index=True)
    region_level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    region_name = models.CharField(_("区域"), max_length=100)
    generated_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    generations = models.PositiveSmallIntegerField(_("生成次数"), default=1)
    figures = models.JSONField(_("数据"), default=dict)
    pdf_name = models.CharField(max_length=200, blank=True)
    xlsx_name = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    recipients = models.PositiveIntegerField(_("收件人数"), default=0)

    class Meta:
        ordering = ["-period_start", "kind", "region_code"]
        verbose_name = _("运行简报")
        verbose_name_plural = _("运行简报")
        constraints = [
            models.UniqueConstraint(fields=["kind", "period_start", "region_code"], name="briefing_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.period_start} {self.region_code or 'city'}"
