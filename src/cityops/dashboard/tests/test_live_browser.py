"""In Debian's chromium: a case created through the intake service appears on an open dashboard screen without
reload within 2 seconds (the live feed through Redis, as `cityops serve` runs it), dispatched as the DOM event the
map listens to; and the replay slider plays a chosen day's events in order, pauses, and seeks."""

import time
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from cityops.cases.tests import conftest as cases_fixtures
from cityops.cases.tests.conftest import POINT_JIANGAN, POINT_WUCHANG_A, TZ
from cityops.dashboard.tests import test_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

geography, reference, new_case = cases_fixtures.geography, cases_fixtures.reference, cases_fixtures.new_case
redis_live = test_live.redis_live  # the live feed on real Redis (CI: never skipped)

DAY = datetime(2026, 11, 24, tzinfo=TZ)

RECORD_EVENTS = """() => {
  window.__live = [];
  ["case", "alarm", "state"].forEach(t => document.addEventListener("cityops:" + t,
      e => window.__live.push({type: t, code: e.detail.code, replay: e.detail.replay, at: performance.now()})));
}"""


def wait_for_code(page, which: str, code: str, timeout: float) -> None:
    """Wait until the map's live (or replay) layer holds a marker of `code`. A function, not a bare expression:
    Playwright runs a bare expression through eval() in the page once it is false at the first look, and the
    site's CSP (script-src 'self', no 'unsafe-eval') refuses that with an EvalError — so a bare expression only
    passed when the marker happened to be there already (an idle machine), and failed in the loaded full run."""
    page.wait_for_function("([which, code]) => window.cityopsLiveMap[which]().some(e => e.code === code)",
                           arg=[which, code], timeout=timeout * 1000)


def test_a_new_case_appears_on_the_open_screen_within_two_seconds(page, live_server, login, redis_live, new_case,
                                                                   leader):
    login(page, leader)
    page.goto(f"{live_server.url}/dashboard/live/")
    page.evaluate(RECORD_EVENTS)
    page.wait_for_selector("#live-status[data-status=live]")
    assert page.locator(".live-empty").is_visible()  # nothing yet, and it says so

    started = time.monotonic()
    case = new_case(point=POINT_WUCHANG_A)
    page.wait_for_selector(f"#live-events li[data-code='{case.code}']", timeout=2000)
    assert time.monotonic() - started < 2
    row = page.locator(f"#live-events li[data-code='{case.code}']")
    assert "新案件" in row.inner_text() and case.category.name_zh in row.inner_text()
    assert row.locator("a").get_attribute("href") == f"/cases/{case.code}/"
    assert page.evaluate("window.__live")[0]["code"] == case.code
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload happened


@pytest.fixture
def day_of_cases(new_case, monkeypatch):
    """Three cases on DAY (00:10 at 武昌, 00:25 at 江岸, 20:00 at 武昌) and one the evening before (not replayed),
    created through the intake service at those times: (first, second, evening)."""
    real_now = timezone.now
    made = []
    for moment, point in ((DAY.replace(minute=10), POINT_WUCHANG_A), (DAY.replace(minute=25), POINT_JIANGAN),
                          (DAY.replace(hour=20), POINT_WUCHANG_A), (DAY - timedelta(minutes=5), POINT_WUCHANG_A)):
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        made.append(new_case(point=point))
    monkeypatch.setattr(timezone, "now", real_now)
    return made[:3]


def test_the_replay_slider_plays_a_day(page, live_server, login, redis_live, day_of_cases, leader):
    first, second, evening = day_of_cases
    login(page, leader)
    page.goto(f"{live_server.url}/dashboard/live/")
    page.evaluate(RECORD_EVENTS)
    page.fill("#replay-day", "2026-11-24")
    page.select_option("#replay-speed", "600")  # 10 minutes of the day a second
    page.click("#replay-play")
    page.wait_for_selector(f"#live-events li.live-replayed[data-code='{second.code}']", timeout=8000)
    page.click("#replay-pause")
    clock = page.inner_text("#replay-clock")
    assert "00:25" <= clock < "20:00"
    time.sleep(0.6)
    assert page.inner_text("#replay-clock") == clock  # paused
    replayed = page.evaluate("window.__live.filter(e => e.replay).map(e => e.code)")
    assert replayed == [first.code, second.code]  # in order, the evening's not yet, nothing from the day before
    assert "回放中" in page.inner_text("#live-status")

    page.eval_on_selector("#replay-slider", "s => { s.value = 86340; s.dispatchEvent(new Event('input')); }")
    page.wait_for_selector(f"#live-events li.live-replayed[data-code='{evening.code}']")
    assert page.inner_text("#replay-clock") == "23:59"
    codes = page.evaluate("Array.from(document.querySelectorAll('#live-events li.live-replayed')).map(li => li.dataset.code)")
    assert sorted(codes) == sorted([first.code, second.code, evening.code])  # a seek shows the day as it stood

    page.click("#replay-stop")
    assert page.locator("#live-events li.live-replayed").count() == 0
    assert page.locator("#live-status[data-status=live]").count() == 1


def test_the_live_page_fits_a_phone(page, live_server, login, redis_live, reference, leader):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, leader)
    page.goto(f"{live_server.url}/dashboard/live/")
    page.wait_for_selector("#live-status[data-status=live]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_new_case_and_an_alarm_appear_on_the_map(page, live_server, login, redis_live, new_case, leader):
    """On the dashboard's own page (/dashboard/, as served: nothing injected) a case created on the server appears
    as a marker of the map's live layer within 2 s, and so does an IoT alarm, in its own colour."""
    from cityops.iot.models import Rule
    from cityops.iot.services import alarm_raise, device_save, rule_defaults_load

    rule_defaults_load()
    device, _ = device_save(actor=None, code="WL-MAP-1", type="water_level", lon=POINT_JIANGAN[0],
                            lat=POINT_JIANGAN[1])
    rule = Rule.objects.filter(device_type="water_level", device__isnull=True).first()
    login(page, leader)
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#live-status[data-status=live]")
    assert page.evaluate("() => window.cityopsLiveMap !== undefined")
    assert page.locator("#replay-slider").count() == 1  # the replay is on the map page too

    started = time.monotonic()
    case = new_case(point=POINT_WUCHANG_A)
    wait_for_code(page, "live", case.code, timeout=2)
    assert time.monotonic() - started < 2
    assert page.locator(".live-marker-case").count() == 1

    started = time.monotonic()
    alarm_raise(device_id=device.pk, rule=rule, value=9.9, ts=timezone.now())
    wait_for_code(page, "live", "WL-MAP-1", timeout=2)
    assert time.monotonic() - started < 2
    assert page.locator(".live-marker-alarm").count() == 1
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload happened


def test_the_replay_plays_on_the_map(page, live_server, login, redis_live, day_of_cases, leader):
    """The replay slider on the map page: the day's cases are drawn in the replay layer in order, a seek shows the
    day as it stood, and 回到实时 brings the live layer back."""
    first, second, evening = day_of_cases

    login(page, leader)
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#live-status[data-status=live]")
    page.fill("#replay-day", "2026-11-24")
    page.select_option("#replay-speed", "600")
    page.click("#replay-play")
    wait_for_code(page, "replayed", second.code, timeout=8)
    page.click("#replay-pause")
    assert [e["code"] for e in page.evaluate("window.cityopsLiveMap.replayed()")] == [first.code, second.code]
    assert page.locator(".live-marker-case").count() == 2  # the replay layer's markers; the live layer is hidden

    page.eval_on_selector("#replay-slider", "s => { s.value = 86340; s.dispatchEvent(new Event('input')); }")
    wait_for_code(page, "replayed", evening.code, timeout=8)
    assert sorted(e["code"] for e in page.evaluate("window.cityopsLiveMap.replayed()")) == sorted(
        [first.code, second.code, evening.code])

    page.click("#replay-stop")
    assert page.evaluate("window.cityopsLiveMap.replayed()") == []
    page.wait_for_selector("#live-status[data-status=live]")


def test_a_refused_screen_polls_and_says_why(page, live_server, login, redis_live, settings, new_case,
                                              leader):
    """One screen too many for the account: the page is not left blank — it says why and reads new cases every
    5 s from the replay API, so a new case still appears on its map."""
    settings.CITYOPS_LIVE_MAX_PER_USER = 1
    login(page, leader)
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#live-status[data-status=live]")
    second = page.context.new_page()  # the same account (the same session) in a second tab
    second.goto(f"{live_server.url}/dashboard/")
    second.wait_for_selector("[data-cityops-live][data-reason=live_too_many_screens]", state="attached")
    status = second.locator("#live-status")
    assert status.get_attribute("data-status") == "polling"
    assert "同一账号最多同时打开 1 个实时画面" in status.inner_text() and "每 5 秒刷新" in status.inner_text()
    time.sleep(1)  # the first round has read what happened before the page opened
    case = new_case(point=POINT_WUCHANG_A)
    wait_for_code(second, "live", case.code, timeout=8)  # the next round of polling (every 5 s)
    wait_for_code(page, "live", case.code, timeout=2)


def test_a_refused_screen_goes_live_once_a_place_frees(page, live_server, login, redis_live, settings, new_case,
                                                       leader):
    """The switch back from polling: a screen refused for the account's limit asks every CITYOPS_LIVE_RETRY_SECONDS
    (30 s; 1 s here) whether a place is free. While none is, it keeps polling; once the account's other screen is
    left, it goes live — the status says so, the polling stops, and a new case comes through the stream."""
    settings.CITYOPS_LIVE_MAX_PER_USER = 1
    settings.CITYOPS_LIVE_RETRY_SECONDS = 1
    login(page, leader)
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#live-status[data-status=live]")
    second = page.context.new_page()
    polled = []
    second.on("request", lambda r: polled.append(time.monotonic()) if "/api/v1/dashboard/replay/" in r.url else None)
    second.goto(f"{live_server.url}/dashboard/")
    second.wait_for_selector("#live-status[data-status=polling]")
    assert second.get_attribute("[data-cityops-live]", "data-retry-seconds") == "1"
    time.sleep(2.5)  # two rounds of asking while the place is taken: still polling
    assert second.get_attribute("#live-status", "data-status") == "polling"

    page.goto(f"{live_server.url}/")  # the first screen is left: its place is free within seconds
    second.wait_for_selector("#live-status[data-status=live]", timeout=15000)
    went_live = time.monotonic()
    assert second.get_attribute("[data-cityops-live]", "data-reason") is None
    assert "实时动态已连接" in second.inner_text("#live-status")
    case = new_case(point=POINT_WUCHANG_A)
    wait_for_code(second, "live", case.code, timeout=2)  # through the stream (polling would take up to 5 s)
    time.sleep(max(0.0, went_live + 6 - time.monotonic()))  # longer than a round of polling
    assert not [t for t in polled if t > went_live + 0.5]  # the polling stopped


def test_leaving_the_page_frees_its_screen(page, live_server, login, redis_live, settings, reference, leader):
    """A screen's place (in this process and its claim in Redis) is free again soon after the page is left, so
    the account's next screen is not refused (the limit is one here)."""
    import redis

    from cityops.dashboard import live

    settings.CITYOPS_LIVE_MAX_PER_USER = 1
    claims = redis.Redis.from_url(redis_live)
    login(page, leader)
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#live-status[data-status=live]")
    assert claims.zcard(live.claims_key(leader.pk)) == 1
    page.goto(f"{live_server.url}/")  # leaves the map: pagehide closes the stream
    deadline = time.monotonic() + 5
    while claims.zcard(live.claims_key(leader.pk)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert claims.zcard(live.claims_key(leader.pk)) == 0
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#live-status[data-status=live]")


def test_without_event_source_the_page_polls(page, live_server, login, reference, new_case, leader):
    """Where no stream can be held (here: no EventSource at all) the page asks the replay API every 5 s."""
    page.add_init_script("delete window.EventSource;")
    login(page, leader)
    page.goto(f"{live_server.url}/dashboard/live/")
    page.wait_for_selector("#live-status[data-status=polling]")
    time.sleep(1)  # the first round has read what happened before the page opened
    case = new_case(point=POINT_WUCHANG_A)
    page.wait_for_selector(f"#live-events li[data-code='{case.code}']", timeout=7000)
