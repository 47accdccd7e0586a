"""Regions of the city: city > district > street > community > grid.

Geometry is GeoJSON (WGS-84) in a JSONField so that no GDAL/PostGIS is needed; point lookups go through the
in-memory STRtree in `geo/index.py`. Codes are hierarchical, so a code prefix means containment
(RULES.md §1: a unit grid code is 6-digit district + 3 street + 3 community + 2 serial).
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

# Code length per level; a region's code starts with its parent's code.
CODE_LENGTH = {"city": 6, "district": 6, "street": 9, "community": 12, "grid": 14}


class Region(models.Model):
    class Level(models.TextChoices):
        CITY = "city", _("市")
        DISTRICT = "district", _("区")
        STREET = "street", _("街道")
        COMMUNITY = "community", _("社区")
        GRID = "grid", _("网格")

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("上级")
    )
    geometry = models.JSONField(_("边界"), help_text=_("GeoJSON 几何（WGS-84）"))
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    centroid_lon = models.FloatField(_("中心经度"))
    centroid_lat = models.FloatField(_("中心纬度"))
    area_km2 = models.FloatField(_("面积（平方公里）"))
    generated = models.BooleanField(_("生成的边界"), default=False, help_text=_("边界为生成的示意形状，非官方"))
    source = models.CharField(_("来源"), max_length=300, blank=True)
    # 户数: what a screening campaign's coverage is measured against (disputes.campaigns); empty when unknown.
    households = models.PositiveIntegerField(_("户数"), null=True, blank=True)
    households_estimated = models.BooleanField(_("户数为估算"), default=False,
                                               help_text=_("户数为估算值（示例数据），非统计数字"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("区域")
        verbose_name_plural = _("区域")
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def display_name(self) -> str:
        from cityops.geo.names import short_name

        return short_name(self.name)


class RegionIndexVersion(models.Model):
    """One row whose token changes on every write to regions, so every process notices and rebuilds its
    in-memory index. A random token (not a counter) also survives rolled-back transactions in tests."""

    token = models.CharField(max_length=36, default="")
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.token

    @classmethod
    def bump(cls) -> str:
        token = uuid.uuid4().hex
        updated = cls.objects.filter(pk=1).update(token=token)
        if not updated:
            cls.objects.update_or_create(pk=1, defaults={"token": token})
        return token

    @classmethod
    def current(cls) -> str:
        return cls.objects.filter(pk=1).values_list("token", flat=True).first() or ""
