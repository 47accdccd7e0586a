"""Open311 GeoReport v2 facade over cases (RULES.md §8): who may post (clients with hashed api keys), what
each service asks (attributes per category), and what a posted request carried that a case does not hold.

Requests themselves are ordinary cases (source "open311"); nothing here has a state of its own.
"""

import hashlib
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Open311Client(models.Model):
    """An app or system that posts requests (another city's app, a FixMyStreet instance, a WeChat mini
    program…). Only a SHA-256 of the key is stored; the key is shown once when created."""

    PREFIX = "o311_"

    name = models.CharField(_("名称"), max_length=100, unique=True)
    contact = models.CharField(_("联系方式"), max_length=200, blank=True)
    key_id = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("每分钟提交上限"), null=True, blank=True, help_text=_("为空时使用系统默认值")
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Open311 客户端")
        verbose_name_plural = _("Open311 客户端")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def new_key(cls) -> tuple[str, str, str]:
        """(full key, key id, hash)."""
        key_id = secrets.token_hex(6)
        key = f"{cls.PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        return key, key_id, hash_key(key)

    @classmethod
    def key_id_of(cls, key: str) -> str | None:
        if not key.startswith(cls.PREFIX):
            return None
        key_id, _sep, secret = key[len(cls.PREFIX) :].partition("_")
        return key_id if key_id and secret else None

    def matches(self, key: str) -> bool:
        return secrets.compare_digest(self.key_hash, hash_key(key))

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ServiceAttribute(models.Model):
    """One extra field of a service (GeoReport v2 service definition), e.g. the state of a manhole cover.
    Keyed by category code so the definitions can ship before the taxonomy is loaded."""

    class Datatype(models.TextChoices):
        STRING = "string", "string"
        NUMBER = "number", "number"
        DATETIME = "datetime", "datetime"
        TEXT = "text", "text"
        SINGLE = "singlevaluelist", "singlevaluelist"
        MULTI = "multivaluelist", "multivaluelist"

    category_code = models.CharField(_("类别编码"), max_length=8, db_index=True)
    code = models.CharField(_("属性编码"), max_length=50)
    datatype = models.CharField(_("数据类型"), max_length=20, choices=Datatype.choices)
    required = models.BooleanField(_("必填"), default=False)
    variable = models.BooleanField(_("需要输入"), default=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=1)
    description = models.CharField(_("说明"), max_length=300)
    description_en = models.CharField(_("英文说明"), max_length=300, blank=True)
    datatype_description = models.CharField(_("格式说明"), max_length=200, blank=True)
    # [{"key": "missing", "name": "缺失", "name_en": "Missing"}, ...]
    values = models.JSONField(_("可选值"), default=list, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["category_code", "order", "code"]
        verbose_name = _("服务属性")
        verbose_name_plural = _("服务属性")
        constraints = [
            models.UniqueConstraint(fields=["category_code", "code"], name="open311_attribute_code"),
        ]

    def __str__(self) -> str:
        return f"{self.category_code}/{self.code}"

    @property
    def keys(self) -> list[str]:
        return [str(v.get("key")) for v in self.values or []]


class Open311Request(models.Model):
    """What a POST carried beyond the case: the client, the token, the attribute answers and the media
    URL (public), and the submitter's contact details (private: never answered by any GET)."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="open311")
    client = models.ForeignKey(Open311Client, on_delete=models.PROTECT, related_name="requests")
    token = models.CharField(max_length=32, unique=True)
    attributes = models.JSONField(default=dict, blank=True)
    media_url = models.URLField(max_length=500, blank=True)
    email = models.EmailField(blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Open311 请求")
        verbose_name_plural = _("Open311 请求")

    def __str__(self) -> str:
        return f"{self.client_id}:{self.case_id}"
