"""Device types: what each kind of city sensor measures, which case category a breach raises, which
department owns it, and the default rules a type starts with (RULES.md §7). Category codes come from
cases/data/categories.csv."""

from django.utils.translation import gettext_lazy as _

SEVERITIES = ("red", "orange", "yellow", "blue")  # 红 > 橙 > 黄 > 蓝
SEVERITY_RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # blue 0 … red 3
SEVERITY_LABELS = {"red": _("红色"), "orange": _("橙色"), "yellow": _("黄色"), "blue": _("蓝色")}

TYPES: dict[str, dict] = {
    "water_level": {
        "label": _("积水水位监测"),
        "metrics": {"water_level": "m", "battery": "V"},
        "category": "E0501",  # 道路积水
        "department": "SW",
    },
    "manhole": {
        "label": _("井盖倾斜监测"),
        "metrics": {"tilt": "deg", "battery": "V"},
        "category": "C0101",  # 井盖破损缺失
        "department": "SW",
    },
    "gas": {
        "label": _("燃气浓度监测"),
        "metrics": {"ch4": "%LEL"},
        "category": "E0503",  # 燃气泄漏
        "department": "RQ",
    },
    "dust": {
        "label": _("工地扬尘监测"),
        "metrics": {"pm10": "ug/m3", "pm25": "ug/m3"},
        "category": "E0302",  # 工地扬尘
        "department": "ZJ",
    },
    "noise": {
        "label": _("噪声监测"),
        "metrics": {"noise": "dB(A)"},
        "category": "E0301",  # 夜间施工扰民 (E0106 噪声扰民 for devices away from sites)
        "department": "ZJ",
    },
    "streetlight": {
        "label": _("路灯电流监测"),
        "metrics": {"current": "A", "voltage": "V"},
        "category": "C0102",  # 路灯损坏
        "department": "CG",
    },
}

TYPE_CHOICES = [(code, spec["label"]) for code, spec in TYPES.items()]

# Default rules per type (loaded by the demo and `cityops iot rules --defaults`). Fields as in models.Rule.
DEFAULT_RULES: list[dict] = [
    {"name": "下穿通道积水 ≥ 0.15 m", "device_type": "water_level", "kind": "threshold", "metric": "water_level",
     "direction": "above", "threshold": 0.15, "hysteresis": 0.03, "duration_s": 0, "severity": "yellow"},
    {"name": "下穿通道积水 ≥ 0.27 m（禁止通行）", "device_type": "water_level", "kind": "threshold",
     "metric": "water_level", "direction": "above", "threshold": 0.27, "hysteresis": 0.05, "duration_s": 0,
     "severity": "red"},
    {"name": "水位快速上涨", "device_type": "water_level", "kind": "rate", "metric": "water_level",
     "direction": "above", "rate_per_min": 0.02, "window": 5, "hysteresis": 0.01, "duration_s": 120,
     "severity": "orange"},
    {"name": "井盖倾斜 > 10°", "device_type": "manhole", "kind": "threshold", "metric": "tilt",
     "direction": "above", "threshold": 10, "hysteresis": 3, "duration_s": 30, "severity": "orange"},
    {"name": "燃气浓度 ≥ 20 %LEL", "device_type": "gas", "kind": "threshold", "metric": "ch4",
     "direction": "above", "threshold": 20, "hysteresis": 5, "duration_s": 0, "severity": "red"},
    {"name": "燃气浓度 ≥ 10 %LEL", "device_type": "gas", "kind": "threshold", "metric": "ch4",
     "direction": "above", "threshold": 10, "hysteresis": 3, "duration_s": 10, "severity": "yellow"},
    {"name": "PM10 超标", "device_type": "dust", "kind": "threshold", "metric": "pm10", "direction": "above",
     "threshold": 150, "hysteresis": 20, "duration_s": 300, "severity": "orange"},
    {"name": "噪声 > 70 dB(A) 持续 5 分钟", "device_type": "noise", "kind": "threshold", "metric": "noise",
     "direction": "above", "threshold": 70, "hysteresis": 5, "duration_s": 300, "severity": "orange"},
    {"name": "路灯电流过低（熄灯/断线）", "device_type": "streetlight", "kind": "threshold", "metric": "current",
     "direction": "below", "threshold": 0.2, "hysteresis": 0.1, "duration_s": 120, "severity": "yellow"},
    {"name": "设备 30 分钟无数据", "device_type": "", "kind": "no_data", "no_data_minutes": 30, "severity": "blue"},
]


def severity_at_least(severity: str, floor: str) -> bool:
    return SEVERITY_RANK.get(severity, -1) >= SEVERITY_RANK.get(floor, 99)
