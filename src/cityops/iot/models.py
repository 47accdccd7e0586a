"""IoT: devices, readings (+ rollups), rules, alarms and the dead-letter table (RULES.md §7).

Readings are written only by iot.storage (batched SQL: COPY on PostgreSQL, multi-row INSERT on SQLite, both
`ON CONFLICT DO NOTHING` on (device, message id) so a re-sent reading is stored once). Alarm states are
written only by core.workflow.transition().
"""

import hashlib
import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityops.core.models import WorkflowModel
from cityops.iot.catalog import SEVERITIES, SEVERITY_LABELS, TYPE_CHOICES
from cityops.iot.workflow import ALARM_WORKFLOW, OPEN_STATES

SEVERITY_CHOICES = [(s, SEVERITY_LABELS[s]) for s in SEVERITIES]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Device(models.Model):
    class Status(models.TextChoices):
        ONLINE = "online", _("在线")
        OFFLINE = "offline", _("离线")
        MAINTENANCE = "maintenance", _("维护中")

    TOKEN_PREFIX = "dv_"

    code = models.CharField(_("设备编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    type = models.CharField(_("设备类型"), max_length=32, choices=TYPE_CHOICES, db_index=True)
    metrics = models.JSONField(_("监测指标及单位"), default=dict, help_text='{"water_level": "m"}')
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    address = models.CharField(_("位置描述"), max_length=200, blank=True)
    region_code = models.CharField(_("所在最小区域编码"), max_length=20, blank=True, db_index=True)
    district_code = models.CharField(max_length=6, blank=True)
    district_name = models.CharField(_("区"), max_length=60, blank=True)
    street_name = models.CharField(_("街道"), max_length=60, blank=True)
    community_name = models.CharField(_("社区"), max_length=60, blank=True)
    grid_code = models.CharField(_("网格"), max_length=14, blank=True)
    department = models.ForeignKey(
        "accounts.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="iot_devices",
        verbose_name=_("权属部门"),
    )
    category_code = models.CharField(_("告警转案件类别"), max_length=8, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OFFLINE)
    last_seen_at = models.DateTimeField(_("最后上报"), null=True, blank=True)
    token_id = models.CharField(max_length=16, blank=True, db_index=True, editable=False)
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("物联设备")
        verbose_name_plural = _("物联设备")

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()

    @classmethod
    def new_token(cls) -> tuple[str, str, str]:
        """(token shown once, key id, SHA-256 stored)."""
        key_id = secrets.token_hex(6)
        token = f"{cls.TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        return token, key_id, hash_token(token)

    def token_matches(self, token: str) -> bool:
        return bool(self.token_hash) and secrets.compare_digest(self.token_hash, hash_token(token))


class Reading(models.Model):
    """One value of one metric at one time. `message_id` is the id the device gave the reading: the pair
    (device, message_id) is the primary key, which is what makes ingestion idempotent (and, with no separate
    id column, one index fewer to maintain on the hottest table)."""

    pk = models.CompositePrimaryKey("device", "message_id")
    # No database foreign key (db_constraint=False): PostgreSQL checked it per row at commit, ~35 % of the
    # ingest writer's time. Integrity is kept by the application: devices are deleted through
    # services.device_delete() (readings and rollups in the same transaction), and retention_apply() sweeps
    # rows whose device is gone (a reading for a just-deleted device can still arrive through the ingest
    # cache). The ORM relation stays for joins, but not in Device.delete()'s cascade (DO_NOTHING): that would
    # load every reading of the device (the admin's confirmation page listed them all, millions for a busy
    # sensor); device_delete() removes them with one statement.
    device = models.ForeignKey(
        Device, on_delete=models.DO_NOTHING, related_name="readings", db_index=False, db_constraint=False
    )
    metric = models.CharField(max_length=32)
    value = models.FloatField()
    ts = models.DateTimeField()
    message_id = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["device", "metric", "ts"], name="iot_reading_series")]
        verbose_name = _("读数")
        verbose_name_plural = _("读数")

    def __str__(self) -> str:
        return f"{self.device_id} {self.metric}={self.value} @ {self.ts}"


class Rollup(models.Model):
    """Per device, metric and minute (period "m") or hour ("h"): count, sum, min, max of the stored readings.
    Maintained incrementally from the readings each batch actually inserted, so duplicates never count."""

    MINUTE = "m"
    HOUR = "h"

    pk = models.CompositePrimaryKey("device", "metric", "period", "start")
    # No database foreign key and not in the ORM cascade, like Reading.device (same writer, same reasons).
    device = models.ForeignKey(Device, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False)
    metric = models.CharField(max_length=32)
    period = models.CharField(max_length=1)
    start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    sum = models.FloatField(default=0.0)
    min = models.FloatField()
    max = models.FloatField()

    def __str__(self) -> str:
        return f"{self.device_id} {self.metric} {self.period} {self.start}"

    @property
    def mean(self) -> float:
        return self.sum / self.count if self.count else 0.0


class Rule(models.Model):
    """A condition on readings. Per device type (device empty) or per device; a device's own rule replaces
    the type's rules of the same kind and metric.

    - threshold: value above (below) `threshold` fires; it clears only once the value is back beyond
      `threshold ∓ hysteresis` (hysteresis keeps a value hovering at the limit from flapping);
    - rate: least-squares slope over the last `window` samples, in units per minute, above `rate_per_min`
      (direction "above": rising; "below": falling) fires; clears below `rate_per_min − hysteresis`;
    - no_data: no reading for `no_data_minutes` fires; the next reading clears.
    `duration_s` > 0: the condition must hold that long (by reading time) before the alarm fires.
    """

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("阈值")
        RATE = "rate", _("变化率")
        NO_DATA = "no_data", _("无数据")

    class Direction(models.TextChoices):
        ABOVE = "above", _("高于 / 上升")
        BELOW = "below", _("低于 / 下降")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    device_type = models.CharField(_("设备类型"), max_length=32, choices=TYPE_CHOICES, blank=True)
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.CASCADE, related_name="rules")
    metric = models.CharField(_("指标"), max_length=32, blank=True)
    direction = models.CharField(_("方向"), max_length=6, choices=Direction.choices, default=Direction.ABOVE)
    threshold = models.FloatField(_("阈值"), null=True, blank=True)
    hysteresis = models.FloatField(_("回差"), default=0.0)
    rate_per_min = models.FloatField(_("变化率（每分钟）"), null=True, blank=True)
    window = models.PositiveSmallIntegerField(_("样本数"), default=5)
    no_data_minutes = models.FloatField(_("无数据时长（分钟）"), null=True, blank=True)
    duration_s = models.FloatField(_("持续时长（秒）"), default=0.0)
    severity = models.CharField(_("级别"), max_length=8, choices=SEVERITY_CHOICES, default="yellow")
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["device_type", "metric", "id"]
        verbose_name = _("告警规则")
        verbose_name_plural = _("告警规则")

    def __str__(self) -> str:
        return self.name


class Alarm(WorkflowModel):
    workflow = ALARM_WORKFLOW

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="alarms", verbose_name=_("设备"))
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="alarms", verbose_name=_("规则"))
    severity = models.CharField(_("级别"), max_length=8, choices=SEVERITY_CHOICES)
    metric = models.CharField(_("指标"), max_length=32, blank=True)
    message = models.CharField(_("说明"), max_length=300, blank=True)
    first_value = models.FloatField(null=True, blank=True)
    last_value = models.FloatField(_("最新值"), null=True, blank=True)
    peak_value = models.FloatField(_("峰值"), null=True, blank=True)
    hits = models.PositiveIntegerField(_("命中次数"), default=1)
    opened_at = models.DateTimeField(_("告警时间"), default=timezone.now, db_index=True)
    first_reading_at = models.DateTimeField(null=True, blank=True)
    last_hit_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    # The city case it became. No foreign key: the alarm outlives any reorganisation of cases.
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    case_code = models.CharField(_("案件编号"), max_length=24, blank=True)
    case_error = models.CharField(max_length=300, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("告警")
        verbose_name_plural = _("告警")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "rule"], condition=Q(state__in=OPEN_STATES), name="iot_alarm_one_open"
            )
        ]
        indexes = [models.Index(fields=["state", "severity"], name="iot_alarm_state_sev")]

    def __str__(self) -> str:
        return f"{self.device_id}/{self.rule_id} {self.severity} {self.state}"


class DeadLetter(models.Model):
    """A message (or one item of it) that could not be stored, with the reason; kept for inspection."""

    class Reason(models.TextChoices):
        BAD_JSON = "bad_json", _("JSON 格式错误")
        BAD_PAYLOAD = "bad_payload", _("消息结构错误")
        UNKNOWN_DEVICE = "unknown_device", _("未登记的设备")
        UNKNOWN_METRIC = "unknown_metric", _("设备无此指标")
        MISSING_FIELD = "missing_field", _("缺少字段")
        BAD_TYPE = "bad_type", _("字段类型错误")
        BAD_TIMESTAMP = "bad_timestamp", _("时间格式错误")
        FUTURE_TIMESTAMP = "future_timestamp", _("时间超前")
        TOO_OLD = "too_old", _("超出保留期")
        TOO_LARGE = "too_large", _("消息过大")
        STORE_FAILED = "store_failed", _("写入失败")

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    source = models.CharField(max_length=8)  # mqtt | http
    topic = models.CharField(max_length=200, blank=True)
    device_code = models.CharField(max_length=64, blank=True, db_index=True)
    reason = models.CharField(max_length=20, choices=Reason.choices, db_index=True)
    detail = models.CharField(max_length=300, blank=True)
    payload = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("死信")
        verbose_name_plural = _("死信")

    def __str__(self) -> str:
        return f"{self.reason} {self.device_code or self.topic}"
