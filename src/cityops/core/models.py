from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """The timeline is append-only: entries are never changed or removed."""


class TimelineQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("timeline entries cannot be updated")

    def delete(self):
        raise AppendOnlyError("timeline entries cannot be deleted")


class TimelineEntry(models.Model):
    """One thing that happened to one subject (a case, a dispute, a user, a category…).

    Entries of a subject form a hash chain: `hash` = SHA-256 over the entry's content and `prev_hash`, so
    `cityops audit verify` finds any edited or deleted entry (DESIGN.md "The timeline").
    """

    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    seq = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # No foreign key: deleting a user must never rewrite history; the name is kept as it was.
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40)  # indexed by (action, at)
    from_state = models.CharField(max_length=40, blank=True)
    to_state = models.CharField(max_length=40, blank=True)
    note = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)
    # The subject's version after this entry, for a workflow object (None otherwise, and on entries written
    # before it was recorded): `audit verify` compares the last entry's (to_state, version) with the object row.
    version = models.PositiveIntegerField(null=True, blank=True)

    objects = TimelineQuerySet.as_manager()

    class Meta:
        ordering = ["subject_type", "subject_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["subject_type", "subject_id", "seq"], name="timeline_subject_seq")
        ]
        indexes = [models.Index(fields=["action", "at"], name="timeline_action_at")]
        verbose_name = _("时间线记录")
        verbose_name_plural = _("时间线记录")

    def __str__(self) -> str:
        return f"{self.subject_type}:{self.subject_id}#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("timeline entries cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("timeline entries cannot be deleted")


class TimelineHead(models.Model):
    """The last sequence number and hash of each subject's chain: it detects a deleted last entry, and its
    row lock serialises appends to one subject. The database lets it move only forward (migration 0004);
    keyed checkpoints of the heads (core.checkpoint) let `audit verify` detect a rewritten or rewound chain."""

    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    seq = models.PositiveIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subject_type", "subject_id"], name="timeline_head_subject")]

    def __str__(self) -> str:
        return f"{self.subject_type}:{self.subject_id}@{self.seq}"


class Notification(models.Model):
    """An in-app inbox message; email/SMS go out through core.notify backends from the same row."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_inbox")]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")

    def __str__(self) -> str:
        return self.title


def state_label_for(workflow, state: str) -> str:
    """The label of a workflow state in the current language (the code itself for an unknown state). Labels
    are Chinese msgids (lazy or plain): translated when a catalogue has them."""
    known = workflow.states.get(state) if workflow else None
    return gettext(str(known.label)) if known else state


class WorkflowModel(models.Model):
    """Base for every case-like model. Only core.workflow.transition() writes `state` and the clock fields.

    The clock: a state with a timer gets a limit in seconds (working or calendar time); `clock_used_s` is
    what was consumed before the current running segment that began at `clock_started_at`; while
    `clock_paused_at` is set the clock stands still (挂账: suspended time does not count).
    """

    workflow = None  # a cityops.core.workflow.Workflow, set by each subclass

    state = models.CharField(_("状态"), max_length=40, db_index=True, editable=False)
    state_changed_at = models.DateTimeField(_("状态变更时间"), default=timezone.now, editable=False)
    version = models.PositiveIntegerField(default=0, editable=False)
    deadline_at = models.DateTimeField(_("当前时限"), null=True, blank=True, db_index=True, editable=False)
    clock_mode = models.CharField(max_length=10, default="work", editable=False)
    clock_limit_s = models.FloatField(null=True, blank=True, editable=False)
    clock_used_s = models.FloatField(default=0.0, editable=False)
    clock_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    clock_paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    overdue = models.BooleanField(_("超期"), default=False, db_index=True, editable=False)
    escalation_level = models.PositiveSmallIntegerField(_("督办级别"), default=0, editable=False)

    class Meta:
        abstract = True

    # What evaluation reads from every timeline entry of this model (core.evaluation): stamp key → attribute path
    # (dots follow relations, e.g. {"unit": "department.code", "region": "region_code", "level": "level"}). The
    # engine stamps them, with `on_time`, on each transition's entry as they stood when the step was taken.
    evaluation_fields: dict[str, str] = {}
    evaluation_unit = "unit"  # the stamp key naming the responsible unit
    # Per-object roles transitions can name like global ones: name → holds(obj, user) -> bool.
    object_roles: dict = {}

    @property
    def subject_type(self) -> str:
        return self._meta.label_lower

    @classmethod
    def evaluation_relations(cls) -> list[str]:
        """The relations the stamp follows, for select_related when the row is locked."""
        return sorted({path.rsplit(".", 1)[0].replace(".", "__") for path in cls.evaluation_fields.values() if "." in path})

    def on_time(self, now=None) -> bool:
        """The current step is within its limit (true when no clock runs)."""
        if self.clock_limit_s is None:
            return True
        return self.clock_used_now(now) <= self.clock_limit_s + 1e-6

    def evaluation_stamp(self, now=None) -> dict:
        if not self.evaluation_fields:
            return {}
        stamp = {}
        for key, path in self.evaluation_fields.items():
            value = self
            for part in path.split("."):
                value = getattr(value, part, None) if value is not None else None
            stamp[key] = "" if value is None else value
        stamp["on_time"] = self.on_time(now)
        return stamp

    def state_label(self) -> str:
        return state_label_for(self.workflow, self.state)

    def clock_used_now(self, now=None) -> float:
        from cityops.core.calendar import elapsed_seconds

        used = self.clock_used_s
        if self.clock_started_at and not self.clock_paused_at:
            used += elapsed_seconds(self.clock_started_at, now or timezone.now(), self.clock_mode)
        return used

    def traffic_light(self, now=None) -> str:
        """green ≤ 80 % of the limit used, yellow ≤ 100 %, red overdue; "" when no clock runs."""
        if not self.clock_limit_s:
            return ""
        now = now or timezone.now()
        if self.deadline_at is not None and not self.clock_paused_at and now > self.deadline_at:
            return "red"  # past a running deadline: no need to walk the calendar
        fraction = self.clock_used_now(now) / self.clock_limit_s
        if fraction <= 0.8:
            return "green"
        if fraction <= 1.0:
            return "yellow"
        return "red"


class CalendarNotice(models.Model):
    """A year's working-day schedule as announced (国务院办公厅关于部分节假日安排的通知): a year with a notice
    counts as announced (core.calendar.schedule_gaps), and its adjustments are the notice's days. Written by
    `cityops calendar import` or in the admin."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("通知文号"), max_length=300, help_text=_("发文机关、文号或标题"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("节假日安排通知")
        verbose_name_plural = _("节假日安排通知")

    def __str__(self) -> str:
        return f"{self.year} {self.source}"


class CalendarAdjustment(models.Model):
    """One day whose working status differs from what the calendar packages say (RULES.md §1 working time): a
    holiday (放假) or a make-up workday (调休上班). It takes precedence over every other source of working days
    (core.calendar.is_workday). Rows of an imported notice carry it; a row without a notice is a local
    adjustment made in the admin (e.g. a day off ordered by the city)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100, help_text=_("如：春节"))
    source = models.CharField(_("依据"), max_length=300, help_text=_("发文机关、文号或标题"))
    notice = models.ForeignKey(
        CalendarNotice, verbose_name=_("节假日安排通知"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="adjustments",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("工作日调整")
        verbose_name_plural = _("工作日调整")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"
