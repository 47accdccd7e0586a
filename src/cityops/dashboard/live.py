"""The dashboard's live feed (issue 15): new cases, IoT alarms and their state changes reach every open screen
without reload, and a chosen day replays from the same events.

How an event travels:
1. core.timeline sends `entry_appended` inside the transaction that writes the change; `_on_entry` below keeps
   the entries of cases and alarms and, with Redis configured (CITYOPS_REDIS_URL), registers `publish` to run once
   the transaction has committed (nothing is published for a change that rolls back).
2. `publish` builds one compact event per entry (`events_for`: the subject's code, state, place and category — no
   names, phones or addresses) and publishes it on the Redis channel `cityops:live:<namespace>` (namespace():
   the installation's database, so two installations or test runs on one Redis stay apart).
3. In each web worker one listener thread (`Hub`) holds the one Redis subscription of the process and puts every
   event on the queue of each connected screen of that process; each screen's stream (live_views.stream) sends the
   events its user may see (`scope_test`: the same regions and units as scope_q) as server-sent events.

Without Redis (the embedded default: SQLite, one machine) nothing is published: each stream reads the timeline
itself once a second (`POLL_SECONDS`), which works across processes because the timeline is the record.

A screen's place is freed as soon as its stream ends: the page closes it when left (pagehide), the server finds
a gone client at its next write (a heartbeat every HEARTBEAT_SECONDS). A screen whose stream stops running
without ending (a response never read, a stuck thread) lapses: its claim in Redis after claim_seconds(), its place
in this process after STALE_SECONDS.

The event id is the timeline entry's id: a browser that reconnects sends it back as Last-Event-ID and the stream
first replays what was missed from the timeline (`entries_after`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import queue
import threading
import time
import uuid
from functools import partial

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.urls import reverse
from django.utils import translation

from cityops.core import roles
from cityops.core.models import TimelineEntry, state_label_for
from cityops.core.scope import is_city_wide
from cityops.core.timeline import entry_appended

log = logging.getLogger(__name__)

KINDS = {"cases.case": "case", "iot.alarm": "alarm"}
CHANNEL = "cityops:live"  # the Redis channel's and keys' stem; namespace() adds the installation's database
HEARTBEAT_SECONDS = 5  # a comment line this often keeps proxies from closing the stream and finds dead clients
POLL_SECONDS = 1.0  # without Redis: how often a stream reads the timeline
STALE_SECONDS = 60  # a screen whose stream has not run this long (and at least its claim's time) is forgotten
MAX_AGE_SECONDS = 3600  # a stream ends after an hour; the browser reconnects (scope and session re-checked)
CATCH_UP_LIMIT = 2000  # at most this many missed entries are replayed on reconnection; more → the page reloads
QUEUE_SIZE = 1000  # events waiting for one screen; a screen that falls this far behind is closed and catches up
ENTRY_FIELDS = ("id", "subject_type", "subject_id", "action", "from_state", "to_state", "at")


def max_per_user() -> int:
    return getattr(settings, "CITYOPS_LIVE_MAX_PER_USER", 5)


def max_streams() -> int:
    return getattr(settings, "CITYOPS_LIVE_MAX_STREAMS", 100)


def retry_seconds() -> int:
    """How often a refused screen (polling meanwhile) asks whether a place is free, to go live again."""
    return max(1, int(getattr(settings, "CITYOPS_LIVE_RETRY_SECONDS", 30)))


def namespace() -> str:
    """What the channel and the screens' claims are named under: the installation's database (every web process
    of one installation shares it; two installations, or two test runs, on one Redis never see each other's events
    or count each other's screens — a test database's user ids start again at 1). CITYOPS_LIVE_NAMESPACE sets it."""
    configured = getattr(settings, "CITYOPS_LIVE_NAMESPACE", "")
    if configured:
        return configured
    from django.db import connections

    db = connections["default"].settings_dict
    return hashlib.sha256(f"{db.get('HOST', '')}:{db.get('PORT', '')}/{db['NAME']}".encode()).hexdigest()[:12]


def channel() -> str:
    return f"{CHANNEL}:{namespace()}"


# --- Events ------------------------------------------------------------------------------------------------

def _event_type(kind: str, from_state: str) -> str:
    return kind if not from_state else "state"


def events_for(entries) -> list[dict]:
    """One event per timeline entry (tuples in ENTRY_FIELDS order) of a case or alarm, in the entries' order,
    with two queries at most (the cases, the alarms with their devices and rules). Entries whose subject is gone
    are skipped."""
    from cityops.cases.models import Case
    from cityops.iot.models import Alarm

    ids = {"case": set(), "alarm": set()}
    for row in entries:
        ids[KINDS[row[1]]].add(int(row[2]))
    subjects: dict[tuple[str, int], dict] = {}
    if ids["case"]:
        for c in Case.objects.filter(pk__in=ids["case"]).values(
                "pk", "code", "lon", "lat", "region_code", "lead_department_id", "category__name_zh",
                "category__name_en"):
            subjects["case", c["pk"]] = {
                "code": c["code"], "lon": c["lon"], "lat": c["lat"], "region_code": c["region_code"],
                "org_id": c["lead_department_id"], "label_zh": c["category__name_zh"],
                "label_en": c["category__name_en"] or c["category__name_zh"],
                "url": reverse("cases:detail", args=[c["code"]]),
            }
    if ids["alarm"]:
        for a in Alarm.objects.filter(pk__in=ids["alarm"]).values(
                "pk", "severity", "device__code", "device__lon", "device__lat", "device__region_code",
                "device__department_id", "rule__name"):
            subjects["alarm", a["pk"]] = {
                "code": a["device__code"], "lon": a["device__lon"], "lat": a["device__lat"],
                "region_code": a["device__region_code"], "org_id": a["device__department_id"],
                "label_zh": a["rule__name"], "label_en": a["rule__name"], "severity": a["severity"],
                "url": reverse("iot:alarm", args=[a["pk"]]),
            }
    events = []
    for entry_id, subject_type, subject_id, action, from_state, to_state, at in entries:
        kind = KINDS[subject_type]
        subject = subjects.get((kind, int(subject_id)))
        if subject is None:
            continue
        events.append({"id": entry_id, "type": _event_type(kind, from_state), "kind": kind,
                       "subject_id": int(subject_id), "action": action, "state": to_state,
                       "at": at.isoformat(), **subject})
    return events


def _workflows() -> dict:
    from cityops.cases.models import Case
    from cityops.iot.models import Alarm

    return {"case": Case.workflow, "alarm": Alarm.workflow}


def public(event: dict, english: bool) -> dict:
    """What a screen receives: the event without the unit it is scoped by, in the screen's language."""
    out = {k: v for k, v in event.items() if k not in ("org_id", "label_zh", "label_en")}
    out["id"] = str(event["id"])
    out["label"] = event["label_en"] if english else event["label_zh"]
    with translation.override("en" if english else settings.LANGUAGE_CODE):  # a stream outlives its request
        out["state_label"] = state_label_for(_workflows()[event["kind"]], event["state"])
    return out


def scope_test(user):
    """A function event -> bool saying whether `user` may see it, or None when the user may open no live feed:
    city-wide roles see every event; a region-bound role (a district's command centre, street, community, grid
    staff) the events inside their regions; a department the events of cases it leads and of its devices. The
    same regions and units as core.scope.scope_q, without a resident's own reports (no dashboard of theirs)."""
    if not user.is_authenticated:
        return None
    if is_city_wide(user):
        return lambda event: True
    codes = user.role_codes
    prefixes = tuple(user.region_codes or ()) if codes & roles.REGION_BOUND_ROLES else ()
    units = frozenset(user.org_unit_ids) if codes & roles.ORG_BOUND_ROLES else frozenset()
    if not prefixes and not units:
        return None
    return lambda event: bool(
        (prefixes and (event.get("region_code") or "").startswith(prefixes)) or event.get("org_id") in units
    )


def entries_after(last_id: int, *, limit: int = CATCH_UP_LIMIT) -> list[tuple]:
    """Timeline entries of cases and alarms after `last_id`, oldest first (the primary key's range)."""
    return list(TimelineEntry.objects.filter(id__gt=last_id, subject_type__in=KINDS)
                .order_by("id").values_list(*ENTRY_FIELDS)[:limit])


def last_entry_id() -> int:
    last = TimelineEntry.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0


# --- Publishing (the writer's side) -----------------------------------------------------------------------

_client_lock = threading.Lock()
_clients: dict[str, object] = {}


def redis_client(url: str | None = None):
    """One Redis client (and its connection pool) per URL and process."""
    import redis

    url = url or settings.CITYOPS_REDIS_URL
    with _client_lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        return client


@receiver(entry_appended, dispatch_uid="dashboard.live")
def _on_entry(sender, entry, **kwargs) -> None:
    if entry.subject_type not in KINDS or not settings.CITYOPS_REDIS_URL:
        return
    row = tuple(getattr(entry, f) for f in ENTRY_FIELDS)
    transaction.on_commit(partial(publish, [row]), robust=True)


def publish(entries) -> int:
    """Publish the events of committed entries; never raises (a Redis outage must not fail the change, already
    committed: the screens catch up from the timeline when their stream reconnects)."""
    url = settings.CITYOPS_REDIS_URL
    if not url:
        return 0
    try:
        events = events_for(entries)
        pipe = redis_client(url).pipeline(transaction=False)
        for event in events:
            pipe.publish(channel(), json.dumps(event, ensure_ascii=False, separators=(",", ":")))
        pipe.execute()
        return len(events)
    except Exception:  # noqa: BLE001 - logged; the change itself is committed
        log.exception("live feed: publishing %d timeline entries failed", len(entries))
        return 0


# --- The screens of one account across every process (with Redis) -------------------------------------------
# A sorted set per account: one member per connected screen, scored by the time its claim lapses. A stream renews
# its claim at every heartbeat; a screen whose process died, or whose stream stopped running, lapses within
# claim_seconds() (three heartbeats). A stream that ends releases its claim at once.


def claim_seconds() -> float:
    return 3 * HEARTBEAT_SECONDS


def claims_key(user_id: int) -> str:
    return f"{CHANNEL}:screens:{namespace()}:{user_id}"


def claimed(url: str, user_id: int) -> int:
    """How many screens the account holds in every web process (lapsed claims removed)."""
    key = claims_key(user_id)
    pipe = redis_client(url).pipeline()
    pipe.zremrangebyscore(key, 0, time.time())
    pipe.zcard(key)
    return pipe.execute()[1]


def claim(url: str, screen: Screen) -> bool:
    """Count the screen against its account's limit in every web process; False when the account has its
    maximum already. A Redis failure does not keep the screen out (the per-process limit still holds)."""
    try:
        if claimed(url, screen.user_id) >= max_per_user():
            return False
        renew(url, screen)
    except Exception:  # noqa: BLE001
        log.warning("live feed: cannot count screens in Redis", exc_info=True)
    return True


def renew(url: str, screen: Screen) -> None:
    key, lapse = claims_key(screen.user_id), claim_seconds()
    client = redis_client(url)
    pipe = client.pipeline()
    pipe.zadd(key, {screen.token: time.time() + lapse})
    pipe.expire(key, int(lapse) + 5)
    pipe.execute()


def release(url: str, screen: Screen) -> None:
    with contextlib.suppress(Exception):
        redis_client(url).zrem(claims_key(screen.user_id), screen.token)


# --- The screens of one process -------------------------------------------------------------------------

RESYNC = {"type": "resync"}  # put on every screen's queue after the Redis subscription was lost and regained


class TooMany(Exception):
    def __init__(self, per_user: bool):
        self.per_user = per_user


class Screen:
    """One connected stream: its user, the events waiting for it, the Redis it claimed its place in (the URL at
    opening: its release goes there even if the setting changed since) and when its stream last ran."""

    def __init__(self, user_id: int, url: str = ""):
        self.user_id = user_id
        self.url = url
        self.token = uuid.uuid4().hex
        self.events: queue.Queue = queue.Queue(maxsize=QUEUE_SIZE)
        self.overflowed = False
        self.seen = time.monotonic()
        # Set when the process forgets the screen (closed, lapsed, stopped): its stream's waits end at once and it
        # reads the database no more. The thread serving it, for Hub.stop to wait for.
        self.closed = threading.Event()
        self.thread = threading.current_thread()

    def end(self) -> None:
        """Wake the stream from any wait: it returns at its next turn."""
        self.closed.set()
        try:
            self.events.put_nowait(RESYNC)  # a stream waiting on its queue (Redis) wakes and sees `closed`
        except queue.Full:
            self.overflowed = True

    def touch(self) -> None:
        """The stream is running: called at every turn of its loop (at least every heartbeat)."""
        self.seen = time.monotonic()

    def stale(self, now: float) -> bool:
        """A screen whose stream has not run for STALE_SECONDS: its response was never read (a server or client
        that dropped it unread) or its thread is stuck. It lapses here as its claim lapses in Redis (later than
        the claim: a server may take a moment to start reading a response it was given)."""
        return now - self.seen > max(STALE_SECONDS, claim_seconds())

    def put(self, event: dict) -> None:
        try:
            self.events.put_nowait(event)
        except queue.Full:
            self.overflowed = True


class Hub:
    """The screens connected to this process and, with Redis, the one thread holding the process's subscription."""

    def __init__(self):
        self._lock = threading.Lock()
        self._screens: set[Screen] = set()
        self._listener: threading.Thread | None = None
        self._url = ""
        self._channel = ""
        self.subscribed = threading.Event()

    def _drop_stale(self) -> None:
        """Forget the screens whose stream stopped running without closing (called with the lock held)."""
        now = time.monotonic()
        for screen in [s for s in self._screens if s.stale(now)]:
            log.info("live feed: screen of user %s lapsed (its stream stopped running)", screen.user_id)
            self._screens.discard(screen)
            screen.end()
            if screen.url:
                release(screen.url, screen)

    def open(self, user_id: int) -> Screen:
        with self._lock:
            self._drop_stale()
            if len(self._screens) >= max_streams():
                raise TooMany(per_user=False)
            if sum(1 for s in self._screens if s.user_id == user_id) >= max_per_user():
                raise TooMany(per_user=True)
            url = settings.CITYOPS_REDIS_URL
            screen = Screen(user_id, url)
            if url and not claim(url, screen):
                raise TooMany(per_user=True)
            self._screens.add(screen)
            name = channel() if url else ""
            if url and (self._listener is None or not self._listener.is_alive() or self._url != url
                        or self._channel != name):
                self._url, self._channel = url, name
                self.subscribed.clear()
                self._listener = threading.Thread(target=self._listen, args=(url, name), name="cityops-live",
                                                  daemon=True)
                self._listener.start()
        return screen

    def refusal(self, user_id: int) -> TooMany | None:
        """Why a new screen of this account would be refused now (None: it would open), without opening one."""
        with self._lock:
            self._drop_stale()
            if len(self._screens) >= max_streams():
                return TooMany(per_user=False)
            if sum(1 for s in self._screens if s.user_id == user_id) >= max_per_user():
                return TooMany(per_user=True)
        url = settings.CITYOPS_REDIS_URL
        try:
            if url and claimed(url, user_id) >= max_per_user():
                return TooMany(per_user=True)
        except Exception:  # noqa: BLE001 - as claim(): Redis down keeps no screen out
            log.warning("live feed: cannot count screens in Redis", exc_info=True)
        return None

    def close(self, screen: Screen) -> None:
        with self._lock:
            self._screens.discard(screen)
        screen.end()
        if screen.url:
            release(screen.url, screen)

    def holds(self, screen: Screen) -> bool:
        with self._lock:
            return screen in self._screens

    def count(self) -> int:
        with self._lock:
            self._drop_stale()
            return len(self._screens)

    def close_all(self) -> list[Screen]:
        """Forget every screen of this process and release its claims; each stream returns at once from its wait
        and reads nothing more (tests: a live server's streams). Returns the screens it closed."""
        with self._lock:
            screens, self._screens = list(self._screens), set()
        for screen in screens:
            screen.end()
            if screen.url:
                release(screen.url, screen)
        return screens

    def stop(self, timeout: float = 5.0, *, listener: bool = False) -> list[threading.Thread]:
        """Shut the feed of this process down: close every screen and wait until the threads serving their streams
        have returned (a stream whose client left would otherwise go on reading the timeline until its next
        heartbeat fails to write, and one of a server shutting down until MAX_AGE_SECONDS); with `listener`, stop
        the Redis subscription's thread too. Returns the threads still running after `timeout` seconds."""
        threads = [s.thread for s in self.close_all() if s.thread is not threading.current_thread()]
        if listener:
            with self._lock:
                self._url, self._channel = "", ""  # _listen's loops end within their 1 s read
                if self._listener is not None:
                    threads.append(self._listener)
                self._listener = None
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0))
        return [t for t in threads if t.is_alive()]

    def deliver(self, event: dict) -> None:
        with self._lock:
            screens = list(self._screens)
        for screen in screens:
            screen.put(event)

    def _current(self, url: str, name: str) -> bool:
        return self._url == url and self._channel == name

    def _listen(self, url: str, name: str) -> None:
        first = True
        while self._current(url, name):
            pubsub = None
            try:
                pubsub = redis_client(url).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(name)
                self.subscribed.set()
                if not first:
                    self.deliver(RESYNC)  # events published while we were away: the streams re-read the timeline
                first = False
                while self._current(url, name):
                    message = pubsub.get_message(timeout=1.0)
                    if message and message["type"] == "message":
                        self.deliver(json.loads(message["data"]))
            except Exception:  # noqa: BLE001 - Redis restarts or the network drops: subscribe again
                log.warning("live feed: Redis subscription lost; retrying in 1 s", exc_info=True)
                self.subscribed.clear()
                time.sleep(1)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # closing a broken connection
                        pubsub.close()


hub = Hub()
