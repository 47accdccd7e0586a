"""Device types: what each kind of city sensor measures, which case category a breach raises, which
department owns it, and the default rules a type starts with (RULES.md §7). Category codes come from
cases/data/categories.csv."""

from dataclasses import dataclass

from django.utils.translation import get_language
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


@dataclass(frozen=True)
class Metric:
    """What a metric is called and how its unit is written, in Chinese and English (the codes and the plain ASCII
    units devices send — "pm25", "ug/m3" — stay the wire format; pages show these)."""

    name_zh: str
    name_en: str
    unit: str  # typeset: µg/m³, °, %LEL

    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


# The metric catalogue: every metric of TYPES, by its code.
METRICS: dict[str, Metric] = {
    "water_level": Metric("水位", "Water level", "m"),
    "battery": Metric("电池电压", "Battery", "V"),
    "tilt": Metric("倾角", "Tilt", "°"),
    "ch4": Metric("甲烷", "Methane", "%LEL"),
    "pm10": Metric("PM10", "PM10", "µg/m³"),
    "pm25": Metric("PM2.5", "PM2.5", "µg/m³"),
    "noise": Metric("噪声", "Noise", "dB(A)"),
    "current": Metric("电流", "Current", "A"),
    "voltage": Metric("电压", "Voltage", "V"),
}
# Plain units a device may declare, as they are typeset.
UNITS = {"ug/m3": "µg/m³", "deg": "°", "degC": "°C", "m3/h": "m³/h", "m3": "m³"}


def metric_name(code: str) -> str:
    """The metric's name in the page's language; the code itself for a metric not in the catalogue."""
    known = METRICS.get(code)
    return known.name() if known else code


def metric_unit(code: str, declared: str = "") -> str:
    """The metric's unit, typeset: the catalogue's, else the device's declared unit typeset."""
    known = METRICS.get(code)
    if known:
        return known.unit
    return UNITS.get(declared, declared)


def metric_label(code: str, declared: str = "") -> str:
    """'水位（m）' / 'Water level (m)'; no brackets when there is no unit."""
    unit = metric_unit(code, declared)
    if not unit:
        return metric_name(code)
    if (get_language() or "").startswith("en"):
        return f"{metric_name(code)} ({unit})"
    return f"{metric_name(code)}（{unit}）"

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
