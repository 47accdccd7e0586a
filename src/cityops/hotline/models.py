"""Hotline calls (12345 受理): what the caller said, what cityops suggested, what the operator chose.

A call whose chosen category differs from the top suggestion is a correction: the classifier learns from it
at the next retrain. Categories are stored by code (not a foreign key) so that the record survives changes to
the taxonomy and the hotline app does not depend on the cases app's migrations.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class HotlineCall(models.Model):
    class Kind(models.TextChoices):
        # The 12345 work-order types of RULES.md §1 (time limits: urgent same day, consultation/help 3 wd,
        # complaint/suggestion 15 wd), named as cases.Case.HotlineKind names them.
        URGENT = "urgent", _("紧急类")
        CONSULTATION = "consultation", _("咨询类")
        HELP = "help", _("求助类")
        COMPLAINT = "complaint", _("投诉类")
        SUGGESTION = "suggestion", _("建议类")

    text = models.TextField(_("来电内容"))
    address = models.CharField(_("地址（口述）"), max_length=300, blank=True)
    caller_phone = models.CharField(_("来电号码"), max_length=20, blank=True)
    kind = models.CharField(_("工单类型"), max_length=12, choices=Kind.choices, default=Kind.COMPLAINT)
    suggested = models.JSONField(_("推荐类别"), default=list, help_text=_("前三个推荐：类别编码与置信度"))
    suggested_category = models.CharField(_("首选推荐"), max_length=8, blank=True)
    chosen_category = models.CharField(_("确定类别"), max_length=8)
    corrected = models.BooleanField(_("已纠正"), default=False, db_index=True)
    region_code = models.CharField(_("区域编码"), max_length=20, blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    case_code = models.CharField(_("案件编号"), max_length=24, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("受理员")
    )
    created_at = models.DateTimeField(_("受理时间"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("热线来电")
        verbose_name_plural = _("热线来电")
        indexes = [models.Index(fields=["corrected", "created_at"], name="hotline_call_corrected")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.chosen_category}"
