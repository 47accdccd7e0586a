"""The live feed (dashboard.live, live_views.stream): a case committed through the intake service reaches an open
stream through Redis pub/sub (real Redis: with CI=true a missing Redis fails, never skips), each screen gets only
its user's scope and no personal data, a reconnecting screen first gets what it missed (Last-Event-ID), without
Redis the stream reads the timeline, and the refusals are coded."""

import json
import os
import time

import pytest
from django.test import Client

from cityops.cases.tests import conftest as cases_fixtures
from cityops.cases.tests.conftest import POINT_JIANGAN, POINT_WUCHANG_A
from cityops.core import roles
from cityops.dashboard import live

pytestmark = pytest.mark.django_db(transaction=True)

# The cases tests' two-district city, categories, departments and case factory.
geography, reference, district_units = cases_fixtures.geography, cases_fixtures.reference, cases_fixtures.district_units
district_dispatcher, new_case = cases_fixtures.district_dispatcher, cases_fixtures.new_case

REDIS_URL = os.environ.get("CITYOPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_live(settings, monkeypatch):
    """The live feed on a real Redis. Absent Redis skips the test on a laptop, fails it in CI."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true but Redis is not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    client = redis.Redis.from_url(REDIS_URL)
    settings.CITYOPS_REDIS_URL = REDIS_URL
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.5)
    mine = f"{live.CHANNEL}:screens:{live.namespace()}:*"  # this test database's claims, not another run's

    def forget_screens():
        live.hub.close_all()
        for key in client.scan_iter(mine):  # user ids start again after a flush: no claim may outlive its test
            client.delete(key)

    forget_screens()  # an earlier, interrupted test's
    yield REDIS_URL
    forget_screens()  # this test's live server may still hold streams of a closed browser


@pytest.fixture
def no_redis(settings, monkeypatch):
    settings.CITYOPS_REDIS_URL = ""
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.5)
    monkeypatch.setattr(live, "POLL_SECONDS", 0.2)


@pytest.fixture
def jiangan_dispatcher(make_user, district_units):
    return make_user("t_district_ja", roles.DISTRICT_DISPATCHER, org_units=["ZH-420102"], region_codes=["420102"])


class Stream:
    """An open stream read frame by frame, as a browser's EventSource would."""

    def __init__(self, user, **headers):
        self.client = Client()
        self.client.force_login(user)
        self.response = self.client.get("/dashboard/live/stream/", **headers)
        assert self.response.status_code == 200, self.response.content
        assert self.response["Content-Type"] == "text/event-stream"
        self.chunks = iter(self.response.streaming_content)

    def frames(self, until: str, timeout: float = 5.0) -> list[dict]:
        """The event frames read until one of type `until` (or a heartbeat past the timeout)."""
        got, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = next(self.chunks).decode()
            if text.startswith(":") or text.startswith("retry:"):
                continue
            fields = dict(line.split(": ", 1) for line in text.strip().splitlines())
            frame = {"event": fields["event"], "id": fields.get("id"), "data": json.loads(fields["data"])}
            got.append(frame)
            if frame["event"] == until:
                return got
        return got

    def events(self, timeout: float = 3.0) -> list[dict]:
        """The case/alarm/state frames arriving within `timeout` (heartbeats every 0.5 s keep the reading going)."""
        got, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = next(self.chunks).decode()
            if text.startswith("id:"):
                fields = dict(line.split(": ", 1) for line in text.strip().splitlines())
                got.append({"event": fields["event"], "id": fields["id"], "data": json.loads(fields["data"])})
        return got

    def close(self):
        self.response.close()


def _wait_subscribed():
    assert live.hub.subscribed.wait(5), "the process never subscribed to Redis"


def test_a_committed_case_reaches_an_open_screen_through_redis(redis_live, new_case, leader):
    screens = live.hub.count()  # the process's hub may still hold screens of earlier tests' live servers
    stream = Stream(leader)
    try:
        assert [f["event"] for f in stream.frames(until="ready")] == ["ready"]
        _wait_subscribed()
        assert live.hub.count() == screens + 1
        started = time.monotonic()
        case = new_case(point=POINT_WUCHANG_A, description="路边有暴露垃圾，联系人张三 13912345678",
                        reporter_phone="13912345678")
        frames = stream.frames(until="case")
        assert time.monotonic() - started < 2
        event = frames[-1]["data"]
        assert event["code"] == case.code and event["kind"] == "case" and event["state"] == case.state
        assert (event["lon"], event["lat"]) == pytest.approx((case.lon, case.lat))
        assert event["url"] == f"/cases/{case.code}/" and event["label"] == case.category.name_zh
        assert event["state_label"] and event["state_label"] != case.state  # by its name, not its code
        entry = live.TimelineEntry.objects.filter(subject_type="cases.case", subject_id=str(case.pk)).get()
        assert frames[-1]["id"] == event["id"] == str(entry.id)
        # No personal data travels: not the description, the phone, the reporter, the unit it is scoped by.
        raw = json.dumps(event, ensure_ascii=False)
        assert "13912345678" not in raw and "张三" not in raw and "org_id" not in event
    finally:
        stream.close()
    assert live.hub.count() == screens  # the closed screen left the hub


def test_a_rolled_back_change_is_never_published(redis_live, new_case, leader):
    from django.db import transaction

    stream = Stream(leader)
    try:
        stream.frames(until="ready")
        _wait_subscribed()
        with pytest.raises(RuntimeError), transaction.atomic():
            new_case(point=POINT_WUCHANG_A)
            raise RuntimeError("the caller fails after the case was written")
        assert stream.events(timeout=1.5) == []
    finally:
        stream.close()


def test_a_district_sees_only_its_own_district(redis_live, new_case, district_dispatcher, jiangan_dispatcher, leader):
    wuchang, jiangan, city = Stream(district_dispatcher), Stream(jiangan_dispatcher), Stream(leader)
    try:
        for s in (wuchang, jiangan, city):
            s.frames(until="ready")
        _wait_subscribed()
        in_wuchang = new_case(point=POINT_WUCHANG_A)
        in_jiangan = new_case(point=POINT_JIANGAN)
        assert [f["data"]["code"] for f in wuchang.events()] == [in_wuchang.code]
        assert [f["data"]["code"] for f in jiangan.events()] == [in_jiangan.code]
        assert sorted(f["data"]["code"] for f in city.events()) == sorted([in_wuchang.code, in_jiangan.code])
    finally:
        for s in (wuchang, jiangan, city):
            s.close()


def test_state_changes_are_sent_as_state_events(redis_live, new_case, operator, leader):
    from cityops.core.workflow import transition

    case = new_case(point=POINT_WUCHANG_A)
    stream = Stream(leader)
    try:
        stream.frames(until="ready")
        _wait_subscribed()
        action = next(t.action for t in case.workflow.transitions if case.state in t.sources and t.action == "register")
        transition(case, action, actor=operator)
        frames = stream.events(timeout=1.5)
        assert [(f["event"], f["data"]["code"], f["data"]["action"]) for f in frames] == [("state", case.code, action)]
    finally:
        stream.close()


def test_a_reconnecting_screen_first_gets_what_it_missed(redis_live, new_case, district_dispatcher):
    seen = new_case(point=POINT_WUCHANG_A)
    last_id = live.TimelineEntry.objects.filter(subject_id=str(seen.pk), subject_type="cases.case").get().id
    missed = [new_case(point=POINT_WUCHANG_A), new_case(point=POINT_JIANGAN), new_case(point=POINT_WUCHANG_A)]
    stream = Stream(district_dispatcher, HTTP_LAST_EVENT_ID=str(last_id))
    try:
        frames = stream.frames(until="ready")
        # The two missed cases of 武昌区, in order, before the stream says it is live; not 江岸区's, not the one seen.
        assert [(f["event"], f["data"].get("code")) for f in frames] == [
            ("case", missed[0].code), ("case", missed[2].code), ("ready", None)]
        _wait_subscribed()
        later = new_case(point=POINT_WUCHANG_A)
        assert [f["data"]["code"] for f in stream.events(timeout=1.5)] == [later.code]  # nothing sent twice
    finally:
        stream.close()


def test_too_much_missed_asks_the_page_to_reload(redis_live, new_case, leader, monkeypatch):
    monkeypatch.setattr(live, "CATCH_UP_LIMIT", 2)
    first = new_case(point=POINT_WUCHANG_A)
    last_id = live.TimelineEntry.objects.filter(subject_id=str(first.pk), subject_type="cases.case").get().id
    new_case(point=POINT_WUCHANG_A)
    new_case(point=POINT_WUCHANG_A)
    stream = Stream(leader, HTTP_LAST_EVENT_ID=str(last_id))
    assert [f["event"] for f in stream.frames(until="reload")] == ["reload"]
    stream.close()


def test_without_redis_the_stream_reads_the_timeline(no_redis, new_case, district_dispatcher):
    stream = Stream(district_dispatcher)
    try:
        stream.frames(until="ready")
        outside = new_case(point=POINT_JIANGAN)
        started = time.monotonic()
        case = new_case(point=POINT_WUCHANG_A)
        frames = stream.frames(until="case")
        assert time.monotonic() - started < 2
        assert [f["data"]["code"] for f in frames] == [case.code]  # not 江岸区's, written first
        assert outside.code not in [f["data"]["code"] for f in stream.events(timeout=1)]
    finally:
        stream.close()


def test_refusals_are_coded(no_redis, settings, reference, resident, leader):
    assert Client().get("/dashboard/live/stream/").json()["code"] == "not_authenticated"
    client = Client()
    client.force_login(resident)
    answer = client.get("/dashboard/live/stream/")
    assert (answer.status_code, answer.json()["code"]) == (403, "live_forbidden")
    assert client.post("/dashboard/live/stream/").status_code == 405

    settings.CITYOPS_LIVE_MAX_PER_USER = 1
    first = Stream(leader)
    second = Client()
    second.force_login(leader)
    answer = second.get("/dashboard/live/stream/")
    assert (answer.status_code, answer.json()["code"]) == (429, "live_too_many_screens")
    assert "1" in answer.json()["message"]
    first.close()
    again = Stream(leader)  # the closed one's place is free
    again.close()

    settings.CITYOPS_LIVE_MAX_STREAMS = 0
    answer = second.get("/dashboard/live/stream/")
    assert (answer.status_code, answer.json()["code"]) == (503, "live_busy")


def test_a_hostile_last_event_id_is_ignored(no_redis, reference, leader):
    for value in ("abc", "1" * 40, "-5", "١٢"):
        stream = Stream(leader, HTTP_LAST_EVENT_ID=value)
        assert [f["event"] for f in stream.frames(until="ready")] == ["ready"]
        stream.close()


def test_scope_test_follows_the_roles(make_user, reference):
    leader = make_user("t_lead2", roles.LEADER)
    street = make_user("t_street2", roles.REGION_STAFF, region_codes=["420106001"])
    dept = make_user("t_dept2", roles.DEPT_HANDLER, org_units=["HW"])
    resident = make_user("t_res2", roles.RESIDENT)
    hw = dept.org_units.get().pk
    inside = {"region_code": "42010600100101", "org_id": None}
    outside = {"region_code": "42010200100101", "org_id": None}
    led = {"region_code": "42010200100101", "org_id": hw}
    assert all(live.scope_test(leader)(e) for e in (inside, outside, led))
    assert [live.scope_test(street)(e) for e in (inside, outside, led)] == [True, False, False]
    assert [live.scope_test(dept)(e) for e in (inside, outside, led)] == [False, False, True]
    assert live.scope_test(resident) is None


def test_the_live_page(no_redis, reference, leader, resident):
    client = Client()
    client.force_login(leader)
    html = client.get("/dashboard/live/").content.decode()
    assert 'data-cityops-live="/dashboard/live/stream/"' in html and 'id="replay-slider"' in html
    assert "打开页面以来还没有新事件" in html  # an empty list says so
    english = client.get("/dashboard/live/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Live feed" in english and "Back to live" in english and "回到实时" not in english
    client.force_login(resident)
    html = client.get("/dashboard/live/").content.decode()
    assert "您的角色没有实时动态" in html and "data-cityops-live" not in html


def test_an_iot_alarm_reaches_the_screens_of_its_district(redis_live, reference, district_dispatcher,
                                                         jiangan_dispatcher):
    from django.utils import timezone

    from cityops.iot.models import Rule
    from cityops.iot.services import alarm_raise, device_save, rule_defaults_load

    rule_defaults_load()
    device, _ = device_save(actor=None, code="WL-LIVE-1", type="water_level", lon=POINT_WUCHANG_A[0],
                            lat=POINT_WUCHANG_A[1])
    rule = Rule.objects.filter(device_type="water_level", device__isnull=True, severity="yellow").first() or \
        Rule.objects.filter(device_type="water_level", device__isnull=True).first()
    wuchang, jiangan = Stream(district_dispatcher), Stream(jiangan_dispatcher)
    try:
        wuchang.frames(until="ready")
        jiangan.frames(until="ready")
        _wait_subscribed()
        alarm = alarm_raise(device_id=device.pk, rule=rule, value=9.9, ts=timezone.now())
        frames = wuchang.frames(until="alarm")
        event = frames[-1]["data"]
        assert (event["kind"], event["code"], event["url"]) == ("alarm", "WL-LIVE-1", f"/iot/alarms/{alarm.pk}/")
        assert event["label"] == rule.name and (event["lon"], event["lat"]) == pytest.approx(POINT_WUCHANG_A)
        assert [f for f in jiangan.events(timeout=1) if f["data"]["kind"] == "alarm"] == []
    finally:
        wuchang.close()
        jiangan.close()


def test_after_redis_comes_back_the_streams_read_what_they_missed(redis_live, new_case, leader):
    stream = Stream(leader)
    try:
        stream.frames(until="ready")
        _wait_subscribed()
        seen = new_case(point=POINT_WUCHANG_A)
        assert stream.frames(until="case")[-1]["data"]["code"] == seen.code
        # While the subscription was lost nothing arrived; the listener, subscribed again, tells every screen.
        from django.test import override_settings

        with override_settings(CITYOPS_REDIS_URL=""):
            missed = new_case(point=POINT_WUCHANG_A)  # committed, never published
        live.hub.deliver(live.RESYNC)
        assert [f["data"]["code"] for f in stream.events(timeout=1.5)] == [missed.code]
    finally:
        stream.close()


def test_the_limit_per_account_holds_across_processes(redis_live, settings, reference, leader):
    """With Redis the screens of an account are counted in every web process: a screen another process holds
    (its claim in Redis) counts, and once it is released or lapses the place is free."""
    settings.CITYOPS_LIVE_MAX_PER_USER = 2
    elsewhere = live.Screen(leader.pk)  # a screen of the same account in another worker
    assert live.claim(REDIS_URL, elsewhere)
    first = Stream(leader)
    client = Client()
    client.force_login(leader)
    answer = client.get("/dashboard/live/stream/")
    assert (answer.status_code, answer.json()["code"]) == (429, "live_too_many_screens")
    live.release(REDIS_URL, elsewhere)
    second = Stream(leader)
    first.close()
    second.close()


def test_a_stream_nobody_reads_lapses(redis_live, settings, monkeypatch, reference, leader):
    """A stream's response opened but never read (a client or server that dropped it unread — as a test client's
    GET does: test_pages_hostile left three for good) does not hold its place for ever: its claim lapses after
    three heartbeats, its place in the process after STALE_SECONDS; then the account may open another."""
    import redis

    monkeypatch.setattr(live, "STALE_SECONDS", 1.0)
    settings.CITYOPS_LIVE_MAX_PER_USER = 1
    client = Client()
    client.force_login(leader)
    unread = client.get("/dashboard/live/stream/")
    assert unread.status_code == 200
    assert client.get("/dashboard/live/stream/").status_code == 429
    time.sleep(live.claim_seconds() + 0.3)
    assert client.get("/dashboard/live/stream/?why=1").json() == {"code": "ok"}
    stream = Stream(leader)
    stream.frames(until="ready")
    assert redis.Redis.from_url(REDIS_URL).zcard(live.claims_key(leader.pk)) == 1  # the lapsed one released
    stream.close()
    unread.close()


def test_a_closed_screen_releases_its_claim_where_it_made_it(redis_live, settings, reference, leader):
    import redis

    stream = Stream(leader)
    stream.frames(until="ready")
    claims = redis.Redis.from_url(REDIS_URL)
    assert claims.zcard(live.claims_key(leader.pk)) == 1
    settings.CITYOPS_REDIS_URL = ""  # the setting changed (here: a test's settings restored) before the end
    stream.close()
    assert claims.zcard(live.claims_key(leader.pk)) == 0


def test_the_page_learns_why_its_stream_was_refused(no_redis, settings, reference, resident, leader):
    """EventSource shows no status: the page asks with ?why=1 and gets the answer a new stream would get, and the
    asking opens no screen."""
    settings.CITYOPS_LIVE_MAX_PER_USER = 1
    client = Client()
    client.force_login(leader)
    before = live.hub.count()
    assert client.get("/dashboard/live/stream/?why=1").json() == {"code": "ok"}
    assert live.hub.count() == before
    first = Stream(leader)
    answer = client.get("/dashboard/live/stream/?why=1")
    assert (answer.status_code, answer.json()["code"]) == (429, "live_too_many_screens")
    assert "每 5 秒刷新" in answer.json()["message"] and "every 5 s" in answer.json()["message_en"]
    first.close()
    settings.CITYOPS_LIVE_MAX_STREAMS = 0
    assert client.get("/dashboard/live/stream/?why=1").json()["code"] == "live_busy"
    client.force_login(resident)
    assert client.get("/dashboard/live/stream/?why=1").json()["code"] == "live_forbidden"


def test_another_installations_events_and_claims_are_not_ours(redis_live, settings, new_case, leader):
    """The channel and the claims are named after the installation's database: a test run (or installation) on
    the same Redis with other user ids and cases never reaches this one's screens nor counts against its limit."""
    import redis

    ours = live.namespace()
    assert ours in live.channel() and ours in live.claims_key(leader.pk)
    settings.CITYOPS_LIVE_MAX_PER_USER = 1
    settings.CITYOPS_LIVE_NAMESPACE = "elsewhere"
    theirs = live.Screen(leader.pk, REDIS_URL)  # the same user id, in another installation
    assert live.claim(REDIS_URL, theirs)
    del settings.CITYOPS_LIVE_NAMESPACE
    stream = Stream(leader)  # not refused: their claim is not ours
    try:
        stream.frames(until="ready")
        _wait_subscribed()
        foreign = {"id": 999999999, "type": "case", "kind": "case", "subject_id": 1, "action": "report",
                   "state": "reported", "at": "2026-11-24T10:00:00+08:00", "code": "FOREIGN", "lon": 114.3,
                   "lat": 30.5, "region_code": "420106", "org_id": None, "label_zh": "x", "label_en": "x", "url": "/"}
        redis.Redis.from_url(REDIS_URL).publish("cityops:live:elsewhere", json.dumps(foreign))
        case = new_case(point=POINT_WUCHANG_A)
        assert [f["data"]["code"] for f in stream.frames(until="case")] == [case.code]
    finally:
        stream.close()
        settings.CITYOPS_LIVE_NAMESPACE = "elsewhere"
        live.release(REDIS_URL, theirs)


@pytest.mark.parametrize("with_redis", [False, True])
def test_stopping_ends_every_stream_at_once_and_it_reads_no_more(with_redis, request, monkeypatch, reference, leader):
    """A stream served by a thread of the web server (or of a test's live server) ends as soon as the process forgets
    its screen — closed, lapsed or the process stopping (hub.stop) — waiting on its queue (Redis) or between two
    reads of the timeline (polling): it reads the database no more. Such a thread reading on after its test,
    into the end of the session, is what printed "Database access not allowed" after a passing run."""
    import threading

    from cityops.dashboard import live_views

    request.getfixturevalue("redis_live" if with_redis else "no_redis")
    reads = []
    monkeypatch.setattr(live, "entries_after", lambda *args, **kwargs: reads.append(1) or [])
    monkeypatch.setattr(live, "last_entry_id", lambda: 0)
    opened, frames = threading.Event(), []

    def serve():  # as the server's thread does: open the screen, then send the stream's frames
        screen = live.hub.open(leader.pk)
        opened.set()
        for frame in live_views._events(screen, lambda event: True, False, None):
            frames.append(frame)

    thread = threading.Thread(target=serve, name="test-stream", daemon=True)
    thread.start()
    assert opened.wait(10)
    while "event: ready\ndata: {}\n\n" not in frames and thread.is_alive():
        time.sleep(0.01)
    if not with_redis:  # polling: it has read the timeline at least once and waits for the next read
        while not reads:
            time.sleep(0.01)
    before = len(reads)
    assert live.hub.stop(timeout=10) == [] and not thread.is_alive()
    assert len(reads) == before  # nothing read after it was stopped
    assert live.hub.count() == 0
