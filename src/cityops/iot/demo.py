"""Demo devices across Wuhan (underpass water level, manhole covers, gas, construction dust and noise,
street lights) and the default rules. Called by `cityops load_demo` and `cityops iot demo`."""

from __future__ import annotations

import random

from cityops.iot.models import Device

# Places in central Wuhan (WGS-84, approximate) where the demo puts its sensors.
ANCHORS = [
    ("雄楚大道下穿通道", 114.352, 30.507),
    ("汉口火车站", 114.256, 30.617),
    ("武昌火车站", 114.317, 30.529),
    ("中山大道", 114.285, 30.583),
    ("徐东大街", 114.343, 30.587),
    ("光谷广场", 114.398, 30.505),
    ("王家湾", 114.212, 30.556),
    ("汉阳大道", 114.252, 30.553),
    ("武汉大道", 114.331, 30.625),
    ("沿江大道", 114.301, 30.588),
    ("珞喻路", 114.365, 30.523),
    ("青山和平大道", 114.382, 30.622),
]
MIX = [("water_level", 0.4), ("manhole", 0.15), ("gas", 0.1), ("dust", 0.1), ("noise", 0.1), ("streetlight", 0.15)]
PREFIX = {"water_level": "WL", "manhole": "MH", "gas": "GS", "dust": "DS", "noise": "NS", "streetlight": "SL"}


def demo_device_specs(n: int, *, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    specs = []
    counters: dict[str, int] = {}
    for i in range(n):
        # Deterministic mix: walk the cumulative shares.
        x = (i + 0.5) / n
        acc = 0.0
        dtype = MIX[-1][0]
        for t, share in MIX:
            acc += share
            if x < acc:
                dtype = t
                break
        counters[dtype] = counters.get(dtype, 0) + 1
        name, lon, lat = ANCHORS[i % len(ANCHORS)]
        lon += rng.uniform(-0.01, 0.01)
        lat += rng.uniform(-0.008, 0.008)
        label = {"water_level": "积水监测", "manhole": "井盖监测", "gas": "燃气监测", "dust": "扬尘监测",
                 "noise": "噪声监测", "streetlight": "路灯监测"}[dtype]
        specs.append({
            "code": f"{PREFIX[dtype]}-{counters[dtype]:04d}", "type": dtype, "name": f"{name}{label}{counters[dtype]}",
            "lon": round(lon, 6), "lat": round(lat, 6), "address": f"武汉市{name}附近",
        })
    return specs


def load_demo(*, devices: int = 60) -> dict:
    """Idempotent: existing devices are left as they are."""
    from cityops.iot.services import device_save, rule_defaults_load

    have = set(Device.objects.values_list("code", flat=True))
    created = 0
    for spec in demo_device_specs(devices):
        if spec["code"] in have:
            continue
        device_save(actor=None, **spec)
        created += 1
    return {"devices_created": created, "rules_created": rule_defaults_load()}
