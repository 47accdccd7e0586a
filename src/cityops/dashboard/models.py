"""The dashboard's own rows (DESIGN.md: "reads; rollups and warnings its own")."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityops.core.models import WorkflowModel
from cityops.dashboard.workflow import EARLY_WARNING_WORKFLOW, OPEN_STATES


class EarlyWarning(WorkflowModel):
    """A spike in the reports of one category in one district or street, or around one site (named by its
    community) (early_warning.py): raised by the worker,
    acknowledged and closed by the duty officer, or closed by the worker once the counts are back to normal. At
    most one open warning per category and region (a database constraint: two workers cannot raise it twice)."""

    workflow = EARLY_WARNING_WORKFLOW

    class Level(models.TextChoices):
        DISTRICT = "district", _("区")
        STREET = "street", _("街道")
        COMMUNITY = "community", _("社区")  # a spike around one site, named by the community of most of its cases

    category = models.ForeignKey("cases.Category", on_delete=models.PROTECT, related_name="+", verbose_name=_("类别"))
    region_code = models.CharField(_("区域编码"), max_length=12)
    region_level = models.CharField(_("区域层级"), max_length=10, choices=Level.choices)
    region_name = models.CharField(_("区域"), max_length=100)
    started_at = models.DateTimeField(_("起始时间"))  # the start of the window that raised it
    detected_at = models.DateTimeField(_("预警时间"), default=timezone.now, db_index=True)
    last_hot_at = models.DateTimeField(null=True, blank=True)  # the last run that found the counts still high
    window_minutes = models.PositiveSmallIntegerField(_("统计窗口（分钟）"))
    observed = models.PositiveIntegerField(_("窗口内案件数"))
    expected = models.FloatField(_("通常数量"))
    score = models.FloatField(_("异常分值"))  # -log10 of the Poisson tail probability
    peak_observed = models.PositiveIntegerField(_("峰值案件数"), default=0)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    # The cases that make it up: those of the window that raised it, and those that came while it stayed high.
    cases = models.ManyToManyField("cases.Case", related_name="+", blank=True, verbose_name=_("案件"))

    class Meta:
        ordering = ["-detected_at"]
        verbose_name = _("异常预警")
        verbose_name_plural = _("异常预警")
        constraints = [
            models.UniqueConstraint(fields=["category", "region_code"], condition=Q(state__in=OPEN_STATES),
                                    name="early_warning_one_open"),
        ]
        indexes = [models.Index(fields=["state", "region_code"], name="early_warning_state_region")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.category_id} {self.detected_at:%Y-%m-%d %H:%M}"


from cityops.dashboard.briefing_models import Briefing  # noqa: E402,F401 - scheduled briefings (dashboard-briefings)


class CaseBin(models.Model):
    """How many finished cases (a terminal state: archived, voided, merged — a case never leaves one) lie in one
    square of 1/CELLS_PER_DEGREE degree of one district: the map's counts of closed and of all cases over a large
    view add these rows to the unfinished cases counted live (rollup.py). Kept by the worker; rebuilt from the
    cases at any time by `cityops dashboard_rollup --full`."""

    cx = models.IntegerField()  # floor(lon × CELLS_PER_DEGREE)
    cy = models.IntegerField()  # floor(lat × CELLS_PER_DEGREE)
    district_code = models.CharField(max_length=6)
    n = models.PositiveIntegerField()
    late = models.PositiveIntegerField()
    sum_lon = models.FloatField()  # for the mean position of the square's cases (where its circle is drawn)
    sum_lat = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cx", "cy", "district_code"], name="case_bin_unique")]
        indexes = [models.Index(fields=["district_code", "cx", "cy"], name="case_bin_district")]

    def __str__(self) -> str:
        return f"{self.district_code} ({self.cx}, {self.cy}): {self.n}"


class RollupMark(models.Model):
    """Up to when a rollup has taken in its rows: CaseBin holds the cases finished at or before `through`."""

    name = models.CharField(max_length=40, primary_key=True)
    through = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} through {self.through:%Y-%m-%d %H:%M:%S}"


class CaseDay(models.Model):
    """One ended day's figures from the timeline of the cases of one community (the first 12 digits of the region
    stamped on each entry): how many were handled (and late), followed up satisfied or reopened, and closed at each
    level. The timeline is append-only, so a day that has ended never changes: the worker counts it once
    (rollup.refresh_days) and the KPIs add today's entries live (kpis.py)."""

    day = models.DateField()
    region_code = models.CharField(max_length=12, blank=True)
    handled = models.PositiveIntegerField(default=0)
    handled_late = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)  # follow-up visits (回访满意)
    unsatisfied = models.PositiveIntegerField(default=0)  # reopenings (回访不满意, 重办)
    closed_community = models.PositiveIntegerField(default=0)  # closings resolved at each level (属地解决率)
    closed_street = models.PositiveIntegerField(default=0)
    closed_district = models.PositiveIntegerField(default=0)
    closed_city = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "region_code"], name="case_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.region_code}"
