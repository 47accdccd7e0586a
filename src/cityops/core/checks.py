"""System checks that read the database (run by `cityops migrate` and `cityops check --database default`)."""

from django.core.checks import Tags, Warning, register
from django.db.utils import DatabaseError

from cityops.core.calendar import schedule_gap_message, schedule_gaps


@register(Tags.database)
def check_holiday_schedule(app_configs, databases=None, **kwargs):
    """The days ahead must fall in years whose holiday schedule is announced (core.calendar.schedule_gaps)."""
    if not databases:
        return []
    try:
        gaps = schedule_gaps()
    except DatabaseError:
        return []  # not migrated yet: `migrate` checks before it creates the tables
    if not gaps:
        return []
    return [
        Warning(
            schedule_gap_message(gaps),
            hint="cityops calendar import FILE（见 docs/deployment.md / see docs/deployment.md）",
            id="cityops.W010",
        )
    ]


@register()
def check_cjk_font(app_configs, **kwargs):
    """PDF documents (core.pdf) embed a Chinese font: fontconfig must know Noto Serif/Sans CJK SC."""
    from cityops.core.pdf import CJK_FAMILIES, cjk_font_families

    if cjk_font_families():
        return []
    return [
        Warning(
            f"未找到中文字体（{' / '.join(CJK_FAMILIES)}），生成的 PDF 文书将无法显示中文 / "
            "No CJK font found: PDF documents would show no Chinese text",
            hint="make fonts（apt-get install fonts-noto-cjk；见 docs/deployment.md / see docs/deployment.md）",
            id="cityops.W011",
        )
    ]
