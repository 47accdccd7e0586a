"""The resident's side of a case reported through the portal: a private tracking key (only its hash is
kept), the case a resident chose to support instead of reporting anew, and their rating after closing.
The case itself lives in cases; nothing here has a state of its own."""

import hashlib
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def hash_key(key: str) -> str:
    return hashlib.sha256(key.strip().upper().encode()).hexdigest()


class PortalReport(models.Model):
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="portal")
    key_hash = models.CharField(max_length=64)
    supports = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="portal_supporters",
        verbose_name=_("附议的案件"),
    )
    satisfied = models.BooleanField(_("满意"), null=True, blank=True)
    rating_comment = models.TextField(_("评价意见"), blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("门户上报")
        verbose_name_plural = _("门户上报")

    def __str__(self) -> str:
        return str(self.case_id)

    @staticmethod
    def new_key() -> str:
        # 8 characters a resident can copy from a phone screen: no 0/O or 1/I confusion.
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        return "".join(secrets.choice(alphabet) for _ in range(8))

    def matches(self, key: str) -> bool:
        return bool(key) and secrets.compare_digest(self.key_hash, hash_key(key))
