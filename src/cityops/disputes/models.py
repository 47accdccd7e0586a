"""矛盾纠纷多元化解 (RULES.md §2): a dispute, its parties, the agreement and its signatures, the bodies that refer
disputes (court, police, 信访), screening campaigns (排查化解行动) and door-knocking visits (天天敲门).

Mediation committees (调解委员会) and the one-stop centre (矛盾纠纷多元化解中心) are accounts.OrgUnit rows (kinds
`committee` and `centre`); mediators are users with the `mediator` role who belong to a committee."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityops.core import roles
from cityops.core.models import WorkflowModel
from cityops.core.storage import PrivateFiles
from cityops.disputes import workflow as dwf


def _centre_staff(dispute, user) -> bool:
    return bool(dispute.centre_id and roles.CENTRE_STAFF in user.role_codes and dispute.centre_id in user.org_unit_ids)


def _committee_mediator(dispute, user) -> bool:
    return bool(dispute.committee_id and roles.MEDIATOR in user.role_codes
                and dispute.committee_id in user.org_unit_ids)


def _assigned_mediator(dispute, user) -> bool:
    return bool(dispute.mediator_id and dispute.mediator_id == user.pk)


def _party(dispute, user) -> bool:
    if dispute.applicant_id and dispute.applicant_id == user.pk:
        return True
    return dispute.parties.filter(user_id=user.pk).exists() if user.pk else False


class Dispute(WorkflowModel):
    workflow = dwf.DISPUTE_WORKFLOW
    object_roles = {
        dwf.CENTRE_STAFF: _centre_staff,
        dwf.COMMITTEE_MEDIATOR: _committee_mediator,
        dwf.ASSIGNED_MEDIATOR: _assigned_mediator,
        dwf.PARTY: _party,
    }
    # Stamped on every timeline entry (core.evaluation): the committee is the responsible unit.
    evaluation_fields = {"unit": "committee.code", "centre": "centre.code", "mediator": "mediator_id",
                         "region": "region_code", "level": "level", "channel": "channel", "source": "source"}

    class Kind(models.TextChoices):
        NEIGHBOUR = "neighbour", _("邻里纠纷")
        FAMILY = "family", _("婚姻家庭纠纷")
        PROPERTY = "property", _("物业纠纷")
        LABOUR = "labour", _("劳动争议（欠薪）")
        CONSUMER = "consumer", _("消费纠纷")
        LAND = "land", _("土地征收拆迁纠纷")
        MEDICAL = "medical", _("医疗纠纷")
        TRAFFIC = "traffic", _("交通事故纠纷")
        OTHER = "other", _("其他纠纷")

    class Source(models.TextChoices):
        WALK_IN = "walk_in", _("来访")
        HOTLINE = "hotline", _("热线")
        PORTAL = "portal", _("网上申请")
        SCREENING = "screening", _("排查发现")
        COURT = "court", _("法院委派")
        POLICE = "police", _("公安移交")
        PETITION = "petition", _("信访转办")

    class Channel(models.TextChoices):
        PEOPLE = "people", _("人民调解")
        ADMINISTRATIVE = "administrative", _("行政调解")
        COURT_INVITED = "court_invited", _("司法（特邀）调解")
        ARBITRATION = "arbitration", _("仲裁")
        LAWYER = "lawyer", _("律师调解")
        INDUSTRY = "industry", _("行业性专业性调解")

    class Entrustment(models.TextChoices):
        NONE = "", _("非法院委托")
        COURT_15 = "court_15", _("法院委托调解（15日）")
        COURT_7 = "court_7", _("法院委托调解·简易程序（7日）")

    class Risk(models.TextChoices):
        LOW = "low", _("低")
        MEDIUM = "medium", _("中")
        HIGH = "high", _("高")

    class Level(models.TextChoices):
        CITY = "city", _("市级")
        DISTRICT = "district", _("区级")
        STREET = "street", _("街道级")
        COMMUNITY = "community", _("社区级")

    class TerminationReason(models.TextChoices):
        PARTY_WITHDREW = "party_withdrew", _("当事人撤回申请")
        NO_AGREEMENT = "no_agreement", _("经调解不能达成协议")
        PARTY_ABSENT = "party_absent", _("当事人无正当理由不到场")
        BEYOND_SCOPE = "beyond_scope", _("不属于人民调解范围")
        LITIGATION_STARTED = "litigation_started", _("一方已起诉或申请仲裁")
        OTHER = "other", _("其他原因")

    code = models.CharField(_("纠纷编号"), max_length=24, unique=True)
    title = models.CharField(_("纠纷事由"), max_length=200)
    description = models.TextField(_("纠纷情况"))
    kind = models.CharField(_("纠纷类型"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(_("争议金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    channel = models.CharField(_("化解渠道"), max_length=16, choices=Channel.choices, blank=True)
    entrustment = models.CharField(_("法院委托"), max_length=10, choices=Entrustment.choices, blank=True, default="")
    risk_level = models.CharField(_("风险等级"), max_length=8, choices=Risk.choices, default=Risk.LOW, db_index=True)
    level = models.CharField(_("化解层级"), max_length=10, choices=Level.choices, blank=True)

    centre = models.ForeignKey("accounts.OrgUnit", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="centre_disputes", verbose_name=_("调处中心"))
    committee = models.ForeignKey("accounts.OrgUnit", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="committee_disputes", verbose_name=_("调解组织"))
    mediator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="mediated_disputes", verbose_name=_("调解员"))

    # Where: located to grid and community like a case (geo.selectors.locate_point / locate_address).
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    region_code = models.CharField(_("所在最小区域编码"), max_length=20, blank=True, db_index=True)
    district_code = models.CharField(max_length=6, blank=True)
    street_code = models.CharField(max_length=9, blank=True)
    community_code = models.CharField(max_length=12, blank=True)
    grid_code = models.CharField(max_length=14, blank=True)

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="applied_disputes", verbose_name=_("申请人账号"))
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="disputes", verbose_name=_("关联城市事件"))
    campaign = models.ForeignKey("Campaign", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="disputes", verbose_name=_("排查行动"))
    referrer = models.ForeignKey("Referrer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="disputes", verbose_name=_("移交机构"))
    external_ref = models.CharField(_("移交机构案号"), max_length=64, blank=True)

    termination_reason = models.CharField(_("终止原因"), max_length=24, choices=TerminationReason.choices,
                                          blank=True)
    referred_routes = models.JSONField(_("告知的救济途径"), default=list, blank=True)
    satisfied = models.BooleanField(_("回访满意"), null=True, blank=True)

    idempotency_key = models.CharField(max_length=80, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("矛盾纠纷")
        verbose_name_plural = _("矛盾纠纷")
        constraints = [
            models.UniqueConstraint(fields=["referrer", "external_ref"], condition=~Q(external_ref=""),
                                    name="dispute_referral_once"),
            models.UniqueConstraint(fields=["created_by", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="dispute_idempotency_key"),
        ]
        indexes = [models.Index(fields=["committee", "state"]), models.Index(fields=["mediator", "state"])]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class CommitteeRemit(models.Model):
    """What a mediation committee (an OrgUnit of kind `committee`) takes: its channel and the dispute types it
    handles (none listed: every type). A committee without a remit row is a people's mediation committee taking
    every type of its region — the 人民调解委员会 of a street or community. Routing (routing.py) reads it."""

    committee = models.OneToOneField("accounts.OrgUnit", on_delete=models.CASCADE, related_name="remit",
                                     verbose_name=_("调解组织"))
    channel = models.CharField(_("化解渠道"), max_length=16, choices=Dispute.Channel.choices,
                               default=Dispute.Channel.PEOPLE)
    kinds = models.JSONField(_("受理纠纷类型"), default=list, blank=True)

    class Meta:
        verbose_name = _("调解组织职能")
        verbose_name_plural = _("调解组织职能")

    def __str__(self) -> str:
        return f"{self.committee_id} {self.channel}"


class Party(models.Model):
    """A party (当事人): a person (居民身份证 validated with stdnum cn.ric; stored encrypted, with a keyed hash to
    find the same person again and a masked form to show) or an organisation (统一社会信用代码, cn.uscc)."""

    class Side(models.TextChoices):
        APPLICANT = "applicant", _("申请方")
        RESPONDENT = "respondent", _("被申请方")

    class Kind(models.TextChoices):
        PERSON = "person", _("自然人")
        ORGANISATION = "organisation", _("法人或其他组织")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="parties")
    side = models.CharField(_("身份"), max_length=12, choices=Side.choices)
    kind = models.CharField(_("类型"), max_length=14, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("姓名或名称"), max_length=100)
    id_hash = models.CharField(max_length=64, blank=True, db_index=True)  # HMAC of the ID number
    id_encrypted = models.TextField(blank=True)
    id_masked = models.CharField(_("证件号码"), max_length=24, blank=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    phone_encrypted = models.TextField(blank=True)
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="dispute_parties", verbose_name=_("居民账号"))

    class Meta:
        ordering = ["dispute", "side", "id"]
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")

    def __str__(self) -> str:
        return self.name


class Agreement(models.Model):
    """人民调解协议书 (人民调解法 §29): parties (from the dispute), facts, terms, performance method and deadline."""

    dispute = models.OneToOneField(Dispute, on_delete=models.CASCADE, related_name="agreement")
    facts = models.TextField(_("纠纷主要事实"))
    terms = models.TextField(_("协议内容"))
    performance_method = models.CharField(_("履行方式"), max_length=200)
    performance_deadline = models.DateField(_("履行期限"), null=True, blank=True)
    court = models.CharField(_("申请确认的法院"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("调解协议")
        verbose_name_plural = _("调解协议")

    def __str__(self) -> str:
        return f"{self.dispute_id} 调解协议"


def signature_storage() -> PrivateFiles:
    return PrivateFiles("dispute_signatures")


class Signature(models.Model):
    """A party's signature on the agreement: who, when, how (paper scanned or on a tablet), and the image."""

    class Method(models.TextChoices):
        PAPER = "paper", _("纸质签字扫描")
        TABLET = "tablet", _("平板电子签名")

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatures")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="signatures")
    method = models.CharField(_("签署方式"), max_length=8, choices=Method.choices)
    file = models.FileField(_("签名文件"), upload_to="disputes/signatures/%Y/%m/", storage=signature_storage)
    signed_at = models.DateTimeField(_("签署时间"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agreement", "party"], name="one_signature_per_party")]
        verbose_name = _("签名记录")
        verbose_name_plural = _("签名记录")

    def __str__(self) -> str:
        return f"{self.party_id} {self.get_method_display()}"


class Referrer(models.Model):
    """A body that refers disputes through the API (法院、公安、信访): its system signs in with a bearer token of
    its own service user (accounts.ApiToken), one per referring body."""

    class Kind(models.TextChoices):
        COURT = "court", _("人民法院")
        POLICE = "police", _("公安机关")
        PETITION = "petition", _("信访部门")

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrer")
    centre = models.ForeignKey("accounts.OrgUnit", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("对接调处中心"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("移交机构")
        verbose_name_plural = _("移交机构")

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    """排查化解行动: a period, regions, dispute types and a goal. Grid and community workers log visits; what they
    find enters intake with the campaign's tag."""

    code = models.CharField(_("编号"), max_length=32, unique=True)
    name = models.CharField(_("行动名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    region_codes = models.JSONField(_("排查区域"), default=list)
    kinds = models.JSONField(_("纠纷类型"), default=list, blank=True)
    goal = models.CharField(_("目标"), max_length=300, blank=True)
    goal_households = models.PositiveIntegerField(_("目标走访户数"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("排查化解行动")
        verbose_name_plural = _("排查化解行动")

    def __str__(self) -> str:
        return self.name


class Visit(models.Model):
    """A door-knocking visit (天天敲门) to a household or a place, logged from a phone. `client_id` is made by the
    phone when the visit is typed, so a visit sent again after the signal comes back is stored once."""

    class Place(models.TextChoices):
        HOUSEHOLD = "household", _("住户")
        PLACE = "place", _("场所")

    class Outcome(models.TextChoices):
        NOTHING = "nothing", _("未发现问题")
        RESOLVED = "resolved", _("当场化解")
        DISPUTE = "dispute", _("发现矛盾纠纷")
        CASE = "case", _("发现城市事件")

    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="visits")
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dispute_visits")
    client_id = models.UUIDField(_("终端记录号"))
    place_kind = models.CharField(_("走访对象"), max_length=10, choices=Place.choices, default=Place.HOUSEHOLD)
    place = models.CharField(_("户或场所"), max_length=200)
    region_code = models.CharField(_("所在区域编码"), max_length=20, db_index=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    people_met = models.CharField(_("见到的人"), max_length=200, blank=True)
    findings = models.TextField(_("发现情况"), blank=True)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices, default=Outcome.NOTHING)
    photo = models.ImageField(_("照片"), upload_to="disputes/visits/%Y/%m/", null=True, blank=True)
    dispute = models.ForeignKey(Dispute, null=True, blank=True, on_delete=models.SET_NULL, related_name="visits")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    visited_at = models.DateTimeField(_("走访时间"), default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-visited_at"]
        constraints = [models.UniqueConstraint(fields=["visitor", "client_id"], name="visit_once_per_client_id")]
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")

    def __str__(self) -> str:
        return f"{self.place} {self.visited_at:%Y-%m-%d}"
