"""The live feed's stream (server-sent events, /dashboard/live/stream/) and its small page (/dashboard/live/: the
feed and the replay of a day without the map, for a screen that only needs the list).

One stream holds, in the web server: one thread for as long as the screen is connected (gunicorn gthread, see
`cityops serve`), a queue of at most live.QUEUE_SIZE events and, without Redis, a database connection it reads the
timeline with once a second. The Redis subscription is one per process (live.Hub), not one per screen.
"""

from __future__ import annotations

import contextlib
import json
import time

from django.contrib.auth.decorators import login_required
from django.db import close_old_connections, connection
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from cityops.dashboard import live


def _refuse(status: int, code: str, zh: str, en: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": zh, "message_en": en}, status=status)


def _too_many(per_user: bool) -> JsonResponse:
    if per_user:
        n = live.max_per_user()
        return _refuse(429, "live_too_many_screens", f"同一账号最多同时打开 {n} 个实时画面，本画面改为每 5 秒刷新",
                       f"At most {n} live screens per account at once; this screen refreshes every 5 s instead")
    return _refuse(503, "live_busy", "实时画面连接已满，本画面改为每 5 秒刷新",
                   "Too many live screens on the server; this screen refreshes every 5 s instead")


def _last_event_id(request) -> int | None:
    """The id the browser last received (EventSource sends it back as Last-Event-ID; `?last_event_id=` for a
    client that opens a new EventSource itself). Anything but a plain number is ignored."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or ""
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None


def _frame(event: dict, english: bool) -> str:
    shown = live.public(event, english)
    data = json.dumps(shown, ensure_ascii=False, separators=(",", ":"))
    return f"id: {shown['id']}\nevent: {shown['type']}\ndata: {data}\n\n"


@require_GET
def stream(request):
    if not request.user.is_authenticated:
        return _refuse(401, "not_authenticated", "请先登录", "Please log in first")
    allowed = live.scope_test(request.user)
    if allowed is None:
        return _refuse(403, "live_forbidden", "您的角色没有实时动态", "Your role has no live feed")
    if "why" in request.GET:
        # The page asks why its stream was refused (EventSource shows no status): the answer a new stream would
        # get now, without opening one.
        refusal = live.hub.refusal(request.user.pk)
        return _too_many(refusal.per_user) if refusal else JsonResponse({"code": "ok"})
    try:
        screen = live.hub.open(request.user.pk)
    except live.TooMany as exc:
        return _too_many(exc.per_user)
    english = (get_language() or "").startswith("en")
    last_id = _last_event_id(request)
    response = StreamingHttpResponse(_Stream(screen, _events(screen, allowed, english, last_id)),
                                     content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass every event on at once
    return response


class _Stream:
    """The frames of one screen; closing it (the server does when the response ends, even before the first frame)
    frees the screen's place."""

    def __init__(self, screen, frames):
        self.screen, self.frames = screen, frames

    def __iter__(self):
        return self.frames

    def close(self):
        self.frames.close()
        live.hub.close(self.screen)


def _events(screen, allowed, english: bool, last_id: int | None):
    """The stream of one screen. The screen is registered before the timeline is read, so nothing committed in
    between is lost; what the catch-up sent is not sent twice."""
    redis_url = live.settings.CITYOPS_REDIS_URL
    polling = not redis_url
    started = renewed = time.monotonic()
    try:
        screen.touch()
        yield "retry: 2000\n\n"
        position = live.last_entry_id() if last_id is None else last_id
        caught_up: set[int] = set()
        if last_id is not None:
            entries = live.entries_after(last_id)
            if len(entries) >= live.CATCH_UP_LIMIT:
                yield "event: reload\ndata: {}\n\n"  # too much missed: the page reloads its figures instead
                return
            for event in live.events_for(entries):
                caught_up.add(event["id"])
                if allowed(event):
                    yield _frame(event, english)
            if entries:
                position = entries[-1][0]
        yield "event: ready\ndata: {}\n\n"
        if not polling:
            connection.close()  # the stream holds no database connection while it waits on Redis
        quiet = 0.0
        while time.monotonic() - started < live.MAX_AGE_SECONDS:
            screen.touch()
            if screen.overflowed or not live.hub.holds(screen):
                # Fell too far behind, or lapsed (this loop stalled past its claim): the browser reconnects with
                # its Last-Event-ID and catches up.
                return
            if polling:
                if screen.closed.wait(live.POLL_SECONDS):
                    return  # forgotten while it waited (closed, lapsed, the process stopping): no more reads
                entries = live.entries_after(position, limit=500)
                if entries:
                    position = entries[-1][0]
                    for event in live.events_for(entries):
                        if allowed(event):
                            quiet = 0.0
                            yield _frame(event, english)
                quiet += live.POLL_SECONDS
                if quiet >= live.HEARTBEAT_SECONDS:
                    quiet = 0.0
                    yield ": heartbeat\n\n"
                continue
            if time.monotonic() - renewed >= live.HEARTBEAT_SECONDS:
                renewed = time.monotonic()
                with contextlib.suppress(Exception):  # the claim only counts screens; Redis may be restarting
                    live.renew(redis_url, screen)
            try:
                event = screen.events.get(timeout=live.HEARTBEAT_SECONDS)
            except live.queue.Empty:
                yield ": heartbeat\n\n"
                continue
            if screen.closed.is_set():
                return
            if event is live.RESYNC:
                close_old_connections()
                for missed in live.events_for(live.entries_after(position)):
                    if missed["id"] not in caught_up and allowed(missed):
                        caught_up.add(missed["id"])
                        yield _frame(missed, english)
                connection.close()
                continue
            if event["id"] in caught_up:
                continue
            position = max(position, event["id"])
            if allowed(event):
                yield _frame(event, english)
    finally:
        live.hub.close(screen)
        connection.close()


@login_required
def page(request):
    """The live feed and the replay without the map: the list of the latest events and the day slider."""
    return render(request, "dashboard/live_page.html", {"can_watch": live.scope_test(request.user) is not None,
                                                        "live_retry_seconds": live.retry_seconds()})
