"""A major administrative decision under stability assessment, its risk register, and what the public and the
assessors gathered in consultation (RULES.md §3). State lives in workflow.py; every write is in services.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cityops.core.models import WorkflowModel
from cityops.stability import workflow as flow


def _unit_staff(unit_id, user) -> bool:
    return bool(unit_id and unit_id in user.org_unit_ids and user.role_codes & flow.UNIT_STAFF_ROLES)


class Decision(WorkflowModel):
    """重大行政决策: a demolition project, a bus-line change, a fare rise — assessed before it is decided."""

    workflow = flow.DECISION_WORKFLOW
    object_roles = {
        flow.ASSESSOR: lambda d, user: _unit_staff(d.assessing_unit_id, user),
        flow.PROPOSER: lambda d, user: _unit_staff(d.proposing_unit_id, user),
        flow.DECIDER: lambda d, user: bool(d.proposing_unit_id in user.org_unit_ids and "dept_lead" in user.role_codes),
    }
    evaluation_fields = {"unit": "assessing_unit.code", "region": "region_code", "level": "level"}

    title = models.CharField(_("决策事项"), max_length=200)
    description = models.TextField(_("决策内容"))
    proposing_unit = models.ForeignKey("accounts.OrgUnit", on_delete=models.PROTECT, related_name="+",
                                       verbose_name=_("决策提出单位"))
    assessing_unit = models.ForeignKey("accounts.OrgUnit", on_delete=models.PROTECT, related_name="+",
                                       verbose_name=_("评估主体"))
    # The area: the regions of the geo tree it affects (district, street or community: DecisionRegion, `regions`) and
    # optionally its own polygon. `region_code` is the first of the regions (the main one).
    region_code = models.CharField(_("所在区域编码"), max_length=20, db_index=True)
    area = models.JSONField(_("影响范围"), null=True, blank=True, help_text=_("GeoJSON Polygon / MultiPolygon（WGS-84）"))
    scope = models.TextField(_("评估范围"), blank=True)
    consultation_opened_at = models.DateTimeField(_("征求意见开始"), null=True, blank=True)
    consultation_ends_on = models.DateField(_("征求意见截止"), null=True, blank=True)
    level = models.CharField(_("风险等级"), max_length=10, blank=True, choices=list(flow.LEVELS.items()))
    assessment = models.TextField(_("评估结论"), blank=True)
    outcome = models.CharField(_("决策结果"), max_length=30, blank=True, choices=list(flow.OUTCOMES.items()))
    outcome_note = models.TextField(_("决策说明"), blank=True)
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    post_evaluation = models.TextField(_("后评估结论"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("重大决策稳评")
        verbose_name_plural = _("重大决策稳评")
        indexes = [models.Index(fields=["region_code"], name="stability_region_prefix",
                                opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.state in flow.PUBLIC_STATES

    @property
    def in_consultation(self) -> bool:
        return self.state == "consultation"

    @property
    def consultation_end(self):
        return flow.consultation_end(self.consultation_ends_on) if self.consultation_ends_on else None

    @property
    def region_codes(self) -> list[str]:
        """The codes of the regions the decision affects, the main one first."""
        return [region.code for region in self.regions.all()]

    def unmitigated_risks(self) -> list[Risk]:
        """Medium and high risks without a mitigation: a medium-risk decision is revised or implemented with
        measures only once this is empty."""
        return [risk for risk in self.risks.all() if risk.level != flow.LOW and not risk.mitigation.strip()]

    def suggested_level(self) -> str:
        """The highest level among the registered risks (the assessor decides; the page shows this beside it)."""
        levels = {risk.level for risk in self.risks.all()}
        return next((level for level in (flow.HIGH, flow.MEDIUM, flow.LOW) if level in levels), "")


class DecisionRegion(models.Model):
    """A region a decision affects: a district, street or community. A decision often reaches several streets or
    districts; the first is also its `region_code`."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="regions")
    code = models.CharField(_("区域编码"), max_length=20)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("影响区域")
        verbose_name_plural = _("影响区域")
        constraints = [models.UniqueConstraint(fields=["decision", "code"], name="stability_decision_region_once")]
        # Scope and monitoring ask "a region under this code": a prefix test (LIKE 'code%') on PostgreSQL too.
        indexes = [models.Index(fields=["code"], name="stability_dregion_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.code


def risk_level(score: int) -> str:
    """The 5×5 likelihood × impact matrix (RULES.md §4's LS matrix): 15–25 high, 9–12 medium, 1–8 low."""
    if score >= 15:
        return flow.HIGH
    if score >= 9:
        return flow.MEDIUM
    return flow.LOW


class Risk(models.Model):
    """One risk point of the register (风险点): its dimension, how likely and how grave, its mitigation and who
    owns it; its status is followed while the decision is monitored."""

    class Dimension(models.TextChoices):
        LEGALITY = "legality", _("合法性")
        RATIONALITY = "rationality", _("合理性")
        FEASIBILITY = "feasibility", _("可行性")
        CONTROLLABILITY = "controllability", _("可控性")
        SECURITY = "security", _("安全性")

    class Status(models.TextChoices):
        OPEN = "open", _("待化解")
        MITIGATING = "mitigating", _("措施落实中")
        RESOLVED = "resolved", _("已化解")
        OCCURRED = "occurred", _("已发生")

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="risks")
    dimension = models.CharField(_("风险维度"), max_length=20, choices=Dimension.choices)
    description = models.TextField(_("风险描述"))
    likelihood = models.PositiveSmallIntegerField(_("可能性（1–5）"))
    impact = models.PositiveSmallIntegerField(_("影响程度（1–5）"))
    score = models.PositiveSmallIntegerField(_("风险值"))
    mitigation = models.TextField(_("防范化解措施"), blank=True)
    owner_unit = models.ForeignKey("accounts.OrgUnit", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("责任单位"))
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("风险点")
        verbose_name_plural = _("风险点")
        constraints = [
            models.CheckConstraint(condition=models.Q(likelihood__gte=1, likelihood__lte=5), name="risk_likelihood_1_5"),
            models.CheckConstraint(condition=models.Q(impact__gte=1, impact__lte=5), name="risk_impact_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.get_dimension_display()} {self.score}"

    @property
    def level(self) -> str:
        return risk_level(self.score)

    @property
    def level_label(self):
        return flow.LEVELS[self.level]


class Comment(models.Model):
    """A resident's comment in the public consultation (公开征求意见). Shown publicly only once the assessing staff
    approved it; the author's name is shown masked."""

    class Stance(models.TextChoices):
        SUPPORT = "support", _("支持")
        OPPOSE = "oppose", _("反对")
        NEUTRAL = "neutral", _("中立")

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已公开")
        REJECTED = "rejected", _("未采纳公开")

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    stance = models.CharField(_("态度"), max_length=10, choices=Stance.choices)
    text = models.TextField(_("意见内容"))
    status = models.CharField(_("审核状态"), max_length=10, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    moderated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderation_note = models.CharField(_("审核说明"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("公众意见")
        verbose_name_plural = _("公众意见")

    def __str__(self) -> str:
        return f"{self.decision_id}:{self.pk} {self.stance}"

    @property
    def author_shown(self) -> str:
        """The author as the public sees them: the first character of the name, the rest masked (市民 赵** )."""
        name = ""
        if self.author is not None:
            name = (self.author.first_name or self.author.get_username()).split()[-1]
        return f"{name[:1]}{'*' * max(1, min(2, len(name) - 1))}" if name else gettext("市民")


class Visit(models.Model):
    """A visit (走访) of the people affected, by the assessors during consultation."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="visits")
    visited_on = models.DateField(_("走访日期"))
    place = models.CharField(_("走访对象 / 地点"), max_length=200)
    people_met = models.PositiveIntegerField(_("走访人数"))
    findings = models.TextField(_("走访情况"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-visited_on", "-id"]
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")

    def __str__(self) -> str:
        return f"{self.visited_on} {self.place}"


class Hearing(models.Model):
    """The hearing (听证会), when one is held: when, where, who took part, and its minutes."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="hearings")
    held_on = models.DateField(_("听证日期"))
    place = models.CharField(_("听证地点"), max_length=200)
    participants = models.PositiveIntegerField(_("参加人数"))
    minutes = models.TextField(_("听证笔录"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("听证会")
        verbose_name_plural = _("听证会")

    def __str__(self) -> str:
        return f"{self.held_on} {self.place}"
