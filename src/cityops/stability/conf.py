"""The numbers of the stability assessment (RULES.md §3). The floors are the regulation's; the monitoring period is
local practice, configurable in settings with this value as the default."""

from django.conf import settings

DEFAULTS = {
    # 重大行政决策程序暂行条例 (2019) §14: public comment lasts at least 30 days.
    "COMMENT_DAYS": 30,
    # RULES.md §3: the legality review lasts at least 7 working days.
    "LEGALITY_REVIEW_WD": 7,
    # Monitoring after publication, until the post-evaluation is due (local practice).
    "MONITORING_DAYS": 180,
    # Comments a resident may send per hour (all decisions together).
    "COMMENTS_PER_HOUR": 5,
}


def get(name: str):
    return getattr(settings, f"CITYOPS_STABILITY_{name}", DEFAULTS[name])
