import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from cityops.core import roles


class OrgUnit(models.Model):
    """An organisation that acts: a department (专业部门), a command centre (指挥中心), a street office or community
    committee (tiered handling), later mediation committees and companies.

    Its level (市/区/街道/社区, see `level`) follows its region: a unit of the whole city has no region code; a
    district's command centre and its bureaus (区级部门) carry the district's code; streets and communities link
    to their own region."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("专业部门")
        COMMAND = "command", _("指挥中心")
        STREET = "street", _("街道")
        COMMUNITY = "community", _("社区")
        COMMITTEE = "committee", _("调解委员会")
        CENTRE = "centre", _("矛盾纠纷多元化解中心")
        COMPANY = "company", _("企业")

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, db_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    region_code = models.CharField(_("行政区划编码"), max_length=20, blank=True, db_index=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("组织单元")
        verbose_name_plural = _("组织单元")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def level(self) -> str:
        """city, district, street or community: the level of the region the unit works for (市级统、区级联、
        街乡合、社区聚). Region codes are hierarchical, so the code's length says the level; a unit without a
        region code works for the whole city."""
        return UNIT_LEVELS.get(len(self.region_code or ""), "city")


# Region code length → level (geo.models.CODE_LENGTH: district 6, street 9, community 12 digits).
UNIT_LEVELS = {6: "district", 9: "street", 12: "community"}


# The codes of a district's units (区级联): its command centre, and the bureau that is a city department's
# counterpart in the district. accounts.demo makes them for every district region.
def command_centre_code(district_code: str) -> str:
    return f"ZH-{district_code}"


def district_bureau_code(department_code: str, district_code: str) -> str:
    return f"{department_code}-{district_code}"


class User(AbstractUser):
    """A person who uses cityops. Roles are groups named by role code; scope comes from org units (what is
    assigned to them) and regions (what lies inside them: grid codes or any ancestor region code)."""

    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    org_units = models.ManyToManyField(OrgUnit, blank=True, related_name="members", verbose_name=_("所属单位"))
    region_codes = models.JSONField(_("负责区域编码"), default=list, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @cached_property
    def role_codes(self) -> frozenset[str]:
        # .all() so that a prefetch_related("groups") saves the query.
        return self.roles_of([group.name for group in self.groups.all()], is_superuser=self.is_superuser)

    @staticmethod
    def roles_of(group_names, *, is_superuser: bool) -> frozenset[str]:
        """The role codes a user with these groups has."""
        codes = set(group_names) & _ROLE_SET
        if is_superuser:
            codes.add(roles.ADMIN)
        return frozenset(codes)

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes & set(codes))

    @cached_property
    def org_unit_ids(self) -> frozenset[int]:
        return frozenset(self.org_units.values_list("id", flat=True))

    @cached_property
    def org_unit_codes(self) -> frozenset[str]:
        return frozenset(self.org_units.values_list("code", flat=True))


_ROLE_SET = frozenset(roles.ALL_ROLES)


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for integrations. Only a SHA-256 of the secret is stored; the secret is shown once."""

    PREFIX = "co_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100, blank=True)
    key_id = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.PREFIX}{self.key_id}… ({self.user})"

    @classmethod
    def new_secret(cls) -> tuple[str, str, str]:
        """Return (full token, key id, hash)."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        token = f"{cls.PREFIX}{key_id}_{secret}"
        return token, key_id, _hash_token(token)

    @classmethod
    def split(cls, token: str) -> str | None:
        if not token.startswith(cls.PREFIX):
            return None
        key_id, _sep, secret = token[len(cls.PREFIX) :].partition("_")
        return key_id if key_id and secret else None

    def matches(self, token: str) -> bool:
        return secrets.compare_digest(self.key_hash, _hash_token(token))

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
