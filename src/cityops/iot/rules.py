"""The rule engine: evaluates each batch of newly stored readings in memory, with per (device, rule) state
cached between batches, and says which alarms open, hit again or clear (RULES.md §7).

It knows nothing about the database: `ingest` feeds it rules and the open alarms at start, gives it the
readings a batch inserted (duplicates never reach it), and turns its events into alarm writes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RuleSpec:
    id: int
    kind: str  # threshold | rate | no_data
    metric: str
    direction: str  # above | below
    threshold: float | None
    hysteresis: float
    rate_per_min: float | None
    window: int
    no_data_minutes: float | None
    duration_s: float
    severity: str
    name: str = ""

    @classmethod
    def from_model(cls, rule) -> RuleSpec:
        return cls(
            id=rule.id, kind=rule.kind, metric=rule.metric, direction=rule.direction, threshold=rule.threshold,
            hysteresis=rule.hysteresis or 0.0, rate_per_min=rule.rate_per_min, window=max(2, rule.window or 2),
            no_data_minutes=rule.no_data_minutes, duration_s=rule.duration_s or 0.0, severity=rule.severity,
            name=rule.name,
        )


@dataclass(slots=True)
class RuleState:
    active: bool = False  # an alarm is open for (device, rule)
    since: float | None = None  # when the condition began to hold (reading time, epoch s)
    window: deque | None = None  # (epoch s, value) for rate rules


@dataclass(slots=True)
class Event:
    kind: str  # open | hit | clear
    device_id: int
    rule: RuleSpec
    value: float | None
    ts: datetime | None


@dataclass
class RuleEngine:
    # rules per (device id, metric); no-data rules per device id
    by_metric: dict[tuple[int, str], list[RuleSpec]] = field(default_factory=dict)
    no_data: dict[int, list[RuleSpec]] = field(default_factory=dict)
    state: dict[tuple[int, int], RuleState] = field(default_factory=dict)

    def load(self, *, device_rules: dict[int, list[RuleSpec]], open_alarms: list[tuple[int, int]]) -> None:
        """Install the rules of each device and mark the (device, rule) pairs that have an open alarm."""
        self.by_metric.clear()
        self.no_data.clear()
        old = self.state
        self.state = {}
        for device_id, specs in device_rules.items():
            for spec in specs:
                if spec.kind == "no_data":
                    self.no_data.setdefault(device_id, []).append(spec)
                else:
                    self.by_metric.setdefault((device_id, spec.metric), []).append(spec)
                key = (device_id, spec.id)
                # Keep windows and "since" across a reload of the rules; the alarm flag comes from the database.
                self.state[key] = old.get(key) or RuleState()
                self.state[key].active = False
        for key in open_alarms:
            self.state.setdefault(key, RuleState()).active = True

    def _st(self, device_id: int, rule_id: int) -> RuleState:
        key = (device_id, rule_id)
        st = self.state.get(key)
        if st is None:
            st = self.state[key] = RuleState()
        return st

    def evaluate(self, points) -> list[Event]:
        """`points`: objects with device_id, metric, value, ts (datetime) and epoch (float seconds), sorted by
        time within each device."""
        events: list[Event] = []
        by_metric = self.by_metric
        state = self.state
        if self.no_data:
            # A device that reports is not silent: its no-data alarms clear on its first reading of the batch.
            first: dict[int, object] = {}
            for p in points:
                if p.device_id in self.no_data and p.device_id not in first:
                    first[p.device_id] = p
            for device_id, p in first.items():
                for spec in self.no_data[device_id]:
                    st = self._st(device_id, spec.id)
                    if st.active:
                        st.active = False
                        events.append(Event("clear", device_id, spec, p.value, p.ts))
        for p in points:
            specs = by_metric.get((p.device_id, p.metric))
            if not specs:
                continue
            device_id = p.device_id
            t = p.epoch
            value = p.value
            for spec in specs:
                st = state.get((device_id, spec.id))
                if st is None:
                    st = state[(device_id, spec.id)] = RuleState()
                if spec.kind == "threshold":
                    breach, back = _threshold(spec, value)
                else:
                    breach, back = _rate(spec, st, t, value)
                if not st.active:
                    if breach:
                        if st.since is None:
                            st.since = t
                        if t - st.since >= spec.duration_s:
                            st.active = True
                            events.append(Event("open", device_id, spec, value, p.ts))
                    else:
                        st.since = None
                elif back:
                    st.active = False
                    st.since = None
                    events.append(Event("clear", device_id, spec, value, p.ts))
                elif breach:
                    events.append(Event("hit", device_id, spec, value, p.ts))
        return events

    def silent(self, *, last_seen: dict[int, float], now: float) -> list[Event]:
        """No-data rules: a device silent for `no_data_minutes` opens an alarm (once)."""
        events = []
        for device_id, specs in self.no_data.items():
            seen = last_seen.get(device_id)
            if seen is None:
                continue  # never reported: commissioning, not a fault
            for spec in specs:
                st = self._st(device_id, spec.id)
                if not st.active and now - seen >= (spec.no_data_minutes or 0) * 60:
                    st.active = True
                    events.append(Event("open", device_id, spec, None, None))
        return events

    def forget(self, device_id: int, rule_id: int) -> None:
        """The alarm was closed by a person while the condition may still hold: start over."""
        st = self.state.get((device_id, rule_id))
        if st is not None:
            st.active = False
            st.since = None


def _threshold(spec: RuleSpec, value: float) -> tuple[bool, bool]:
    if spec.direction == "below":
        return value < spec.threshold, value >= spec.threshold + spec.hysteresis
    return value > spec.threshold, value <= spec.threshold - spec.hysteresis


def _rate(spec: RuleSpec, st: RuleState, t: float, value: float) -> tuple[bool, bool]:
    if st.window is None:
        st.window = deque(maxlen=spec.window)
    st.window.append((t, value))
    if len(st.window) < spec.window:
        return False, False
    slope = _slope_per_min(st.window)
    if spec.direction == "below":
        slope = -slope
    limit = spec.rate_per_min or 0.0
    return slope > limit, slope <= limit - spec.hysteresis


def _slope_per_min(window) -> float:
    n = len(window)
    t0 = window[0][0]
    sx = sy = sxx = sxy = 0.0
    for t, v in window:
        x = (t - t0) / 60.0
        sx += x
        sy += v
        sxx += x * x
        sxy += x * v
    den = n * sxx - sx * sx
    return 0.0 if den == 0 else (n * sxy - sx * sy) / den
