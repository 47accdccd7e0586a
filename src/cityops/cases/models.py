"""City cases (城市事件 / 12345 工单): RULES.md §1.

State and clock fields come from core.WorkflowModel and are written only by core.workflow.transition();
everything else is written by cases.services.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cityops.cases import supervision
from cityops.cases.workflow import CASE_WORKFLOW, FINISHED_STATES, OPEN_STATES, TASK_WORKFLOW
from cityops.core.models import WorkflowModel


class Category(models.Model):
    """Taxonomy of events (E) and components (C): code = kind + 2-digit major + 2-digit minor."""

    class Kind(models.TextChoices):
        EVENT = "event", _("事件")
        COMPONENT = "component", _("部件")

    code = models.CharField(_("编码"), max_length=8, unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    major_zh = models.CharField(_("大类"), max_length=40)
    name_zh = models.CharField(_("名称"), max_length=80)
    name_en = models.CharField(_("英文名称"), max_length=120, blank=True)
    department_code = models.CharField(_("默认处置部门"), max_length=32, blank=True)
    handle_limit_wh = models.FloatField(_("处置时限（工作小时）"), default=8)
    urgent = models.BooleanField(_("紧急"), default=False)
    duplicate_radius_m = models.FloatField(_("重复判定半径（米）"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("案件类别")
        verbose_name_plural = _("案件类别")

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"

    @property
    def name(self) -> str:
        """The name in the language of the request (English where the category has one)."""
        english = (get_language() or "").startswith("en")
        return self.name_en if english and self.name_en else self.name_zh


class RoutingRule(models.Model):
    """Which department handles a category in a region: the longest matching region prefix wins, so a
    district's own bureau overrides the city default. category=None applies to every category."""

    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE, related_name="rules")
    region_prefix = models.CharField(_("区域编码前缀"), max_length=20)
    department = models.ForeignKey("accounts.OrgUnit", on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("派遣规则")
        verbose_name_plural = _("派遣规则")
        constraints = [
            models.UniqueConstraint(fields=["category", "region_prefix"], name="routing_rule_category_region")
        ]

    def __str__(self) -> str:
        return f"{self.category_id or '*'} @ {self.region_prefix} → {self.department_id}"


class CaseCounter(models.Model):
    """Last serial per (year, district): the case code is year + district + serial."""

    year = models.PositiveSmallIntegerField()
    district = models.CharField(max_length=6)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "district"], name="case_counter_year_district")]

    def __str__(self) -> str:
        return f"{self.year}{self.district}: {self.last}"


class Case(WorkflowModel):
    workflow = CASE_WORKFLOW
    # Evaluation (RULES.md §1) charges each step to the department holding the case when it was due.
    evaluation_fields = {"dept": "lead_department.code", "region": "region_code", "level": "level", "source": "source"}
    evaluation_unit = "dept"

    class Source(models.TextChoices):
        FIELD = "field", _("监督员/网格员上报")
        HOTLINE = "hotline", _("12345 热线")
        PORTAL = "portal", _("公众门户")
        OPEN311 = "open311", _("Open311")
        IOT = "iot", _("物联感知")
        VIDEO = "video", _("视频发现")
        ASSIGNMENT = "assignment", _("上级交办")

    PUBLIC_SOURCES = ("hotline", "portal", "open311")

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("一般")
        URGENT = "urgent", _("紧急")

    class HotlineKind(models.TextChoices):
        URGENT = "urgent", _("紧急类")
        CONSULTATION = "consultation", _("咨询类")
        HELP = "help", _("求助类")
        COMPLAINT = "complaint", _("投诉类")
        SUGGESTION = "suggestion", _("建议类")

    class Level(models.TextChoices):
        CITY = "city", _("市级")
        DISTRICT = "district", _("区级")
        STREET = "street", _("街道")
        COMMUNITY = "community", _("社区")

    # Indexes are chosen for intake's sake (every index is written by every report): `state` and `overdue`
    # (inherited) and the foreign keys are covered by the composite indexes below or only serve the rare
    # deletion of a user or unit; `code` is unique without a LIKE copy; region codes are matched by prefix.
    state = models.CharField(_("状态"), max_length=40, editable=False)
    overdue = models.BooleanField(_("超期"), default=False, editable=False)
    code = models.CharField(_("案件编号"), max_length=24)
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    hotline_kind = models.CharField(_("工单类型"), max_length=12, choices=HotlineKind.choices, blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="cases", verbose_name=_("类别"), db_index=False
    )
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    address = models.CharField(_("地址"), max_length=300, blank=True)
    region_code = models.CharField(_("所在最小区域编码"), max_length=20)
    district_code = models.CharField(max_length=6, blank=True)
    district_name = models.CharField(max_length=60, blank=True)
    street_code = models.CharField(max_length=9, blank=True)
    street_name = models.CharField(max_length=60, blank=True)
    community_code = models.CharField(max_length=12, blank=True)
    community_name = models.CharField(max_length=60, blank=True)
    grid_code = models.CharField(max_length=14, blank=True)
    grid_name = models.CharField(max_length=60, blank=True)
    description = models.TextField(_("问题描述"))
    urgency = models.CharField(_("紧急程度"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reported_cases",
        db_index=False,
    )
    reporter_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    anonymous = models.BooleanField(_("匿名"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    idempotency_key = models.CharField(max_length=80, blank=True)

    # Tiered handling (市级统、区级联、街乡合、社区聚; cases.levels): `level` is the level of the unit holding the
    # case now, or of the queue it waits in (a new report waits at its community; an escalation one level up; a
    # return with the command centre that dispatched it). `dispatched_level` is the level of the command centre
    # that dispatched it (city or district), which decides its returns, extensions and suspensions.
    # `resolved_level` is the level of the unit that handled it ("" until handled, again after a rework).
    level = models.CharField(_("处置层级"), max_length=10, choices=Level.choices, default=Level.COMMUNITY)
    dispatched_level = models.CharField(_("派遣层级"), max_length=10, choices=Level.choices, blank=True)
    resolved_level = models.CharField(_("解决层级"), max_length=10, choices=Level.choices, blank=True)
    proposed_department = models.ForeignKey(
        "accounts.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    lead_department = models.ForeignKey(
        "accounts.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="lead_cases",
        verbose_name=_("主办部门"), db_index=False,
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    extensions = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    returns = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    reworks = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    suspensions = models.PositiveSmallIntegerField(_("挂账次数"), default=0)
    escalations = models.PositiveSmallIntegerField(_("上报升级次数"), default=0)
    merged_reports = models.PositiveIntegerField(_("合并举报数"), default=0)
    pending_extra_hours = models.FloatField(null=True, blank=True)  # asked in extend_request, granted in extend_approve

    result_note = models.TextField(_("处置结果"), blank=True)
    handled_on_time = models.BooleanField(null=True, blank=True)
    satisfaction = models.BooleanField(_("满意"), null=True, blank=True)
    self_handled = models.BooleanField(_("自处理"), default=False)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates", db_index=False
    )

    created_at = models.DateTimeField(_("上报时间"), default=timezone.now, db_index=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        indexes = [
            models.Index(fields=["lead_department", "state", "deadline_at"], name="case_dept_queue"),
            models.Index(fields=["state", "deadline_at"], name="case_state_deadline"),
            models.Index(fields=["district_code", "state"], name="case_district_state"),
            # Duplicate search at intake: the bounding box of one category (services.case_duplicates); it also
            # serves the category filter. No (category, created_at): a plan that knows no parameter chose it for
            # the duplicate search and walked the category's whole time window.
            models.Index(fields=["category", "lat", "lon"], name="case_category_lat_lon"),
            # Partial: most cases have no registered reporter and are no merged duplicate.
            models.Index(fields=["reporter", "created_at"], name="case_reporter", condition=Q(reporter__isnull=False)),
            models.Index(fields=["duplicate_of"], name="case_duplicate_of", condition=Q(duplicate_of__isnull=False)),
            models.Index(fields=["level", "state"], name="case_level_state"),
            # Scope and region filters are prefix tests (region_code LIKE '4201060010%').
            models.Index(fields=["region_code"], name="case_region_prefix", opclasses=["varchar_pattern_ops"]),
            # The dashboard's map (dashboard/aggregation.py): counts per square bin inside a bounding box, read from
            # this index alone on PostgreSQL (index-only scan; INCLUDE is ignored elsewhere).
            models.Index(fields=["lon", "lat"], name="case_lon_lat",
                         include=["state", "created_at", "overdue", "deadline_at", "region_code", "category"]),
            # The same for the open cases alone (the map's default): a tenth of the size.
            models.Index(fields=["lon", "lat"], name="case_open_lon_lat", condition=Q(state__in=OPEN_STATES),
                         include=["state", "created_at", "overdue", "deadline_at", "region_code", "category"]),
            # And the closed ones not archived yet (the map of closed or all cases reads them live: dashboard/rollup.py).
            models.Index(fields=["lon", "lat"], name="case_closed_lon_lat", condition=Q(state="closed"),
                         include=["state", "created_at", "overdue", "deadline_at", "region_code", "category"]),
            # The dashboard's figures of a period (dashboard/kpis.py: intake by channel, category and day).
            models.Index(fields=["created_at"], name="case_created_at"),
            # The cases finished since the dashboard's rollup last took them in (dashboard/rollup.py): written only
            # when a case enters a terminal state, never at intake.
            models.Index(fields=["state_changed_at"], name="case_finished_changed",
                         condition=Q(state__in=FINISHED_STATES)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="case_code_unique"),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"], condition=~Q(idempotency_key=""), name="case_idempotency"
            )
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def region_names(self) -> dict:
        return {
            level: ({"code": code, "name": name} if code else None)
            for level, code, name in (
                ("district", self.district_code, self.district_name),
                ("street", self.street_code, self.street_name),
                ("community", self.community_code, self.community_name),
                ("grid", self.grid_code, self.grid_name),
            )
        }


def mask_phone(phone: str) -> str:
    if not phone:
        return ""
    if len(phone) >= 7:
        return phone[:3] + "****" + phone[-4:]
    return "*" * len(phone)


class CaseTask(WorkflowModel):
    """The part of an assisting department (协办) in joint handling (一事联办), or a decision of a joint
    consultation; the lead department can mark the case handled only when every task is done or released."""

    workflow = TASK_WORKFLOW
    evaluation_fields = {"dept": "department.code"}
    evaluation_unit = "dept"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    department = models.ForeignKey("accounts.OrgUnit", on_delete=models.PROTECT, related_name="case_tasks")
    description = models.TextField(blank=True)
    consultation = models.ForeignKey("Consultation", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    result_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["department", "state"], name="casetask_dept_state")]

    def __str__(self) -> str:
        return f"{self.case_id}/{self.department_id}"


class Consultation(models.Model):
    """联办难点一起商: a meeting of the departments concerned about a difficult case, and its decisions."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consultations")
    meeting_at = models.DateTimeField(_("会商时间"))
    topic = models.CharField(_("议题"), max_length=200)
    participants = models.ManyToManyField("accounts.OrgUnit", related_name="+", verbose_name=_("参会部门"))
    decisions = models.JSONField(_("会商决定"), default=list)
    minutes = models.TextField(_("纪要"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["meeting_at"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.topic}"


def _photo_path(instance, filename: str) -> str:
    return f"cases/{instance.case.code}/{filename}"


class CasePhoto(models.Model):
    """A photo: `public` has every metadata block (EXIF incl. GPS) removed and is what viewers get;
    `original` is kept in private storage for intake and audit."""

    class Kind(models.TextChoices):
        REPORT = "report", _("上报")
        HANDLED = "handled", _("处置")
        VERIFY = "verify", _("核查")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REPORT)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    public = models.FileField(upload_to=_photo_path)
    original_name = models.CharField(max_length=200, blank=True)
    original_path = models.CharField(max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.sha256[:8]}"


class SupervisionOrder(WorkflowModel):
    """督办单: a supervisor's order on an open case or sub-task, addressed to the unit holding it when issued,
    which must answer within `response_hours` working hours (cases/supervision: workflow and rules)."""

    workflow = supervision.SUPERVISION_WORKFLOW
    object_roles = {supervision.RESPONSIBLE: supervision.is_unit_staff}
    # Evaluation: each step is charged to the unit the order is addressed to, at the level it stood at.
    evaluation_fields = {"dept": "unit.code", "level": "level"}
    evaluation_unit = "dept"

    class Level(models.TextChoices):
        REMIND = supervision.REMIND, _("催办")
        ESCALATE = supervision.ESCALATE, _("督办")
        LISTED = supervision.LISTED, _("挂牌督办")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervision_orders", verbose_name=_("案件"))
    # Set when the order is on a sub-task (协办任务) of the case rather than on the case itself.
    task = models.ForeignKey(CaseTask, null=True, blank=True, on_delete=models.CASCADE, related_name="supervision_orders",
                             verbose_name=_("协办任务"))
    # Null only on a draft, which lives inside the issuing transaction (the constraint below).
    unit = models.ForeignKey("accounts.OrgUnit", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="supervision_orders", verbose_name=_("责任单位"))
    level = models.CharField(_("督办级别"), max_length=10, choices=Level.choices, blank=True)
    reason = models.TextField(_("督办事由"), blank=True)
    response_hours = models.FloatField(_("回复时限（工作小时）"), default=0)
    answer = models.TextField(_("回复内容"), blank=True)
    escalations = models.PositiveSmallIntegerField(_("升级次数"), default=0)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    issued_at = models.DateTimeField(_("下达时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("督办单")
        verbose_name_plural = _("督办单")
        indexes = [models.Index(fields=["unit", "state"], name="supervision_unit_state")]
        constraints = [
            models.CheckConstraint(condition=Q(state="draft") | Q(unit__isnull=False, level__in=supervision.LEVELS),
                                   name="supervision_issued_has_unit_and_level"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}/{self.pk} {self.level}"

    @property
    def level_rank(self) -> int:
        return supervision.LEVEL_RANK.get(self.level, 0)
