"""`cityops iot simulate`: realistic readings of the demo devices over MQTT, with three scenarios on a
scenario clock (`speed` scenario minutes per real minute, one hour per cycle):
- a rainstorm floods some underpasses (water level rises to ~0.4 m from minute 10, recedes after 35);
- a gas leak at one gas sensor (CH₄ climbs past 20 %LEL from minute 15, repaired at 30);
- a noisy night construction site (78 dB(A) from minute 5 to 45) and a dusty one.
"""

from __future__ import annotations

import json
import math
import random
import time
from datetime import datetime, timedelta, timezone

import paho.mqtt.client as mqtt

from cityops.iot import conf
from cityops.iot.models import Device

CST = timezone(timedelta(hours=8))


def _bump(minute: float, start: float, peak: float, end: float) -> float:
    """0 before start, rises to 1 at peak, back to 0 at end."""
    if minute <= start or minute >= end:
        return 0.0
    if minute <= peak:
        return (minute - start) / (peak - start)
    return (end - minute) / (end - peak)


def value_for(device: Device, metric: str, minute: float, role: str, rng: random.Random) -> float:
    m = minute % 60
    if metric == "water_level":
        base = rng.uniform(0.0, 0.01)
        return round(base + (0.4 * _bump(m, 10, 25, 45) if role == "flood" else 0.0), 3)
    if metric == "ch4":
        return round(rng.uniform(0, 2) + (28 * _bump(m, 15, 22, 30) if role == "leak" else 0.0), 2)
    if metric == "noise":
        return round((78 if role == "night_site" and 5 <= m < 45 else 58) + rng.gauss(0, 2), 1)
    if metric in ("pm10", "pm25"):
        k = 1.0 if metric == "pm10" else 0.6
        return round(k * ((190 if role == "dusty_site" else 60) + rng.gauss(0, 10)), 1)
    if metric == "tilt":
        return round(abs(rng.gauss(0.5, 0.3)), 2)
    if metric == "current":
        return round(0.05 if role == "broken_light" else 1.0 + rng.gauss(0, 0.05), 3)
    if metric == "voltage":
        return round(220 + rng.gauss(0, 2), 1)
    if metric == "battery":
        return round(3.6 + rng.gauss(0, 0.02), 3)
    return round(rng.random(), 3)


def roles_for(devices: list[Device]) -> dict[str, str]:
    roles: dict[str, str] = {}
    by_type: dict[str, list[Device]] = {}
    for d in devices:
        by_type.setdefault(d.type, []).append(d)
    for d in by_type.get("water_level", [])[::4]:
        roles[d.code] = "flood"  # a quarter of the underpasses flood
    for t, role in (("gas", "leak"), ("noise", "night_site"), ("dust", "dusty_site"), ("streetlight", "broken_light")):
        if by_type.get(t):
            roles[by_type[t][0].code] = role
    return roles


def simulate(*, broker, devices: int, rate: float, duration: float = 0, batch: int = 1, speed: float = 60.0,
             scenarios: bool = True, stdout=None, topic_prefix: str | None = None, tick=None) -> dict:
    """Publish simulated readings until `duration` seconds have passed (0: until interrupted); `tick(published,
    seconds)` is called about ten times a second (the command's progress)."""
    from cityops.iot.demo import load_demo

    on_tick = tick
    if Device.objects.count() < devices:
        load_demo(devices=devices)
    chosen = list(Device.objects.exclude(status=Device.Status.MAINTENANCE).order_by("code")[:devices])
    if not chosen:
        return {"published": 0}
    roles = roles_for(chosen) if scenarios else {}
    prefix = (topic_prefix or conf.get("MQTT_TOPIC_PREFIX")).rstrip("/")
    rng = random.Random(42)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"cityops-sim-{int(time.time())}")
    broker.apply(client)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(broker.host, broker.port)
    client.loop_start()
    run = f"{int(time.time()):x}"
    started = time.monotonic()
    if stdout:
        stdout.write(f"simulating {len(chosen)} devices at {rate:g} readings/s, {batch} per message "
                     f"(scenarios: {sorted(set(roles.values()))})\n")
    published = seq = buffered = 0
    i = 0
    pending: dict[str, list] = {}
    try:
        while not duration or time.monotonic() - started < duration:
            tick = time.monotonic()
            minute = (tick - started) / 60.0 * speed
            now = datetime.now(CST).isoformat(timespec="milliseconds")
            target = published + max(1, math.ceil(rate * 0.1))
            while published + buffered < target:
                device = chosen[i % len(chosen)]
                i += 1
                for metric in device.metrics or {}:
                    seq += 1
                    item = {"id": f"{run}-{seq}", "metric": metric, "ts": now,
                            "value": value_for(device, metric, minute, roles.get(device.code, ""), rng)}
                    items = pending.setdefault(device.code, [])
                    items.append(item)
                    buffered += 1
                    if len(items) >= batch:
                        body = items[0] if batch == 1 else items
                        client.publish(f"{prefix}/{device.code}", json.dumps(body), qos=1)
                        published += len(items)
                        buffered -= len(items)
                        pending[device.code] = []
            if on_tick is not None:
                on_tick(published, time.monotonic() - started)
            time.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
    except KeyboardInterrupt:
        pass
    finally:
        for code, items in pending.items():
            if items:
                client.publish(f"{prefix}/{code}", json.dumps(items), qos=1)
                published += len(items)
        client.loop_stop()
        client.disconnect()
    return {"published": published, "seconds": round(time.monotonic() - started, 1)}
