"""The rule engine alone (no database): hysteresis, duration, rate of change, no data."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from cityops.iot.rules import RuleEngine, RuleSpec

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def spec(**kw):
    base = dict(id=1, kind="threshold", metric="level", direction="above", threshold=1.0, hysteresis=0.2,
                rate_per_min=None, window=5, no_data_minutes=None, duration_s=0.0, severity="red")
    base.update(kw)
    return RuleSpec(**base)


def run(engine, values, step_s=10, metric="level"):
    points = [SimpleNamespace(device_id=7, metric=metric, value=v, ts=T0 + timedelta(seconds=i * step_s),
                              epoch=(T0 + timedelta(seconds=i * step_s)).timestamp())
              for i, v in enumerate(values)]
    return [e.kind for e in engine.evaluate(points)]


def engine_with(*specs, open_alarms=()):
    e = RuleEngine()
    e.load(device_rules={7: list(specs)}, open_alarms=list(open_alarms))
    return e


def test_threshold_opens_once_counts_hits_and_clears_only_below_hysteresis():
    e = engine_with(spec())
    assert run(e, [0.5, 1.1, 1.3, 0.9, 1.2, 0.85, 0.7]) == ["open", "hit", "hit", "clear"]


def test_below_direction():
    e = engine_with(spec(direction="below", threshold=0.2, hysteresis=0.1))
    assert run(e, [1.0, 0.1, 0.25, 0.31]) == ["open", "clear"]


def test_duration_must_hold_before_firing():
    e = engine_with(spec(duration_s=30))
    # 10 s apart: breach at 10, 20, 30 s (20 s held) — dip — 50…90 s (held 30 s at 80 s)
    assert run(e, [0.5, 1.5, 1.5, 1.5, 0.5, 1.5, 1.5, 1.5, 1.5, 1.5]) == ["open", "hit"]


def test_rate_of_change_over_last_n_samples():
    e = engine_with(spec(kind="rate", threshold=None, rate_per_min=0.5, window=4, hysteresis=0.1))
    # rising 0.2 per 10 s = 1.2/min once the window is full, then flat
    kinds = run(e, [0.0, 0.2, 0.4, 0.6, 0.8, 0.8, 0.8, 0.8, 0.8])
    assert kinds[0] == "open" and kinds[-1] == "clear" and kinds.count("open") == 1


def test_no_data_opens_when_silent_and_the_next_reading_clears():
    e = engine_with(spec(kind="no_data", metric="", threshold=None, no_data_minutes=30))
    now = T0.timestamp()
    assert [ev.kind for ev in e.silent(last_seen={7: now - 29 * 60}, now=now)] == []
    assert [ev.kind for ev in e.silent(last_seen={7: now - 31 * 60}, now=now)] == ["open"]
    assert [ev.kind for ev in e.silent(last_seen={7: now - 32 * 60}, now=now)] == []  # once
    assert run(e, [0.1]) == ["clear"]


def test_state_survives_reload_and_open_alarms_come_from_the_database():
    e = engine_with(spec(), open_alarms=[(7, 1)])
    assert run(e, [1.5]) == ["hit"]
    e.load(device_rules={7: [spec()]}, open_alarms=[])  # closed by a person meanwhile
    assert run(e, [1.5]) == ["open"]
