/* The dashboard's live feed (issue 15). Starts by itself when an element [data-cityops-live] (its stream's URL) is
 * on the page. Each event of the stream is dispatched on `document` as a CustomEvent:
 *   cityops:case  (a new case)   cityops:alarm (a new IoT alarm)   cityops:state (a case or alarm changed state)
 * with detail {kind, id, subject_id, code, action, state, state_label, label, lon, lat, region_code, url, at,
 * replay: false}. The status goes out as cityops:live-status {status: connecting|live|reconnecting|polling|closed}.
 * Server-sent events; the browser reconnects by itself and sends the last id it received (Last-Event-ID), the
 * server replays what was missed. Where a stream cannot be held (no EventSource, a proxy that buffers, or the
 * server refuses it: too many screens of the account or of the server), it falls back to asking the replay API
 * for today's new events every 5 seconds and says why in the status line (data-reason: the server's code); a
 * refused screen asks again every data-retry-seconds (CITYOPS_LIVE_RETRY_SECONDS, 30 s) and goes live once a place
 * is free. The stream is closed when the page
 * goes away (pagehide, beforeunload), so the server frees its place at once, and opened again if the page comes
 * back from the browser's cache. */
(function () {
  "use strict";
  var root = document.querySelector("[data-cityops-live]");
  if (!root) { return; }
  var streamUrl = root.getAttribute("data-cityops-live");
  var replayUrl = root.getAttribute("data-replay-url");
  var retrySeconds = parseInt(root.getAttribute("data-retry-seconds"), 10) || 30;
  var statusEl = document.getElementById("live-status");
  var seen = new Set();
  var order = [];
  var lastId = null;
  var source = null;
  var failures = 0;
  var pollTimer = null;
  var paused = false;  // while a replay plays, live events are kept back and sent when it ends
  var held = [];
  var retryTimer = null;  // while refused: asks every retrySeconds whether a place is free
  var leaving = false;
  var english = (document.documentElement.lang || "").toLowerCase().indexOf("en") === 0;

  function setStatus(status, reason) {
    root.setAttribute("data-status", status);
    if (reason) { root.setAttribute("data-reason", reason.code); } else { root.removeAttribute("data-reason"); }
    if (statusEl) {
      statusEl.setAttribute("data-status", status);
      var label = reason ? (english ? reason.message_en : reason.message) : statusEl.getAttribute("data-label-" + status);
      if (label) { statusEl.textContent = label; }
    }
    document.dispatchEvent(new CustomEvent("cityops:live-status", {detail: {status: status, reason: reason || null}}));
  }

  function emit(type, data) {
    if (seen.has(data.id)) { return; }
    seen.add(data.id);
    order.push(data.id);
    if (order.length > 2000) { seen.delete(order.shift()); }
    if (lastId === null || Number(data.id) > Number(lastId)) { lastId = data.id; }
    data.replay = false;
    if (paused) { held.push([type, data]); return; }
    document.dispatchEvent(new CustomEvent("cityops:" + type, {detail: data}));
  }

  function today() {
    var d = new Date();
    var m = String(d.getMonth() + 1).padStart(2, "0");
    return d.getFullYear() + "-" + m + "-" + String(d.getDate()).padStart(2, "0");
  }

  function poll(first) {
    var after = lastId === null ? 0 : lastId;
    fetch(replayUrl + "?day=" + today() + "&after=" + after + "&limit=5000", {credentials: "same-origin"})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (page) {
        page.events.forEach(function (row) {
          var data = {};
          page.fields.forEach(function (f, i) { data[f] = row[i]; });
          if (first) {  // what happened before the page opened is on the map already
            seen.add(data.id);
            if (lastId === null || Number(data.id) > Number(lastId)) { lastId = data.id; }
          } else {
            emit(data.type, data);
          }
        });
        if (page.next_after !== null) {
          if (lastId === null || page.next_after > Number(lastId)) { lastId = String(page.next_after); }
          poll(first);
        }
      })
      .catch(function () { /* the next round tries again */ });
  }

  function startPolling(reason) {
    if (source) { source.close(); source = null; }
    setStatus("polling", reason);
    if (pollTimer !== null) { return; }
    poll(lastId === null);
    pollTimer = window.setInterval(function () { poll(false); }, 5000);
  }

  function stopPolling() {
    if (pollTimer !== null) { window.clearInterval(pollTimer); pollTimer = null; }
  }

  // EventSource shows no status: ask the server why it refused (the answer a new stream would get, no stream
  // opened). "ok": the refusal has passed (or it was the network) → try again; 401/403: no feed for this user.
  function askWhy() {
    return fetch(streamUrl + "?why=1", {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json().then(function (body) { return {status: r.status, body: body}; }); });
  }

  function refused(answer) {
    if (answer.status === 401 || answer.status === 403) {
      stopPolling();
      setStatus("closed", answer.body);
      return;
    }
    startPolling(answer.body);
    if (retryTimer === null) {
      retryTimer = window.setInterval(function () {
        askWhy().then(function (again) {
          if (again.status === 200 && again.body.code === "ok") {
            window.clearInterval(retryTimer);
            retryTimer = null;
            stopPolling();
            failures = 0;
            connect();
          }
        }).catch(function () { /* asked again at the next round */ });
      }, retrySeconds * 1000);
    }
  }

  function connect() {
    if (typeof window.EventSource === "undefined") { startPolling(); return; }
    var url = streamUrl + (lastId !== null ? "?last_event_id=" + encodeURIComponent(lastId) : "");
    source = new EventSource(url);
    ["case", "alarm", "state"].forEach(function (type) {
      source.addEventListener(type, function (e) { emit(type, JSON.parse(e.data)); });
    });
    source.addEventListener("ready", function () { failures = 0; setStatus("live"); });
    source.addEventListener("reload", function () {
      // Too much was missed to replay event by event: the map reloads its figures, the feed starts afresh.
      source.close();
      lastId = null;
      document.dispatchEvent(new CustomEvent("cityops:live-reload"));
      connect();
    });
    source.onerror = function () {
      if (leaving) { return; }
      failures += 1;
      if (source.readyState === EventSource.CLOSED) {
        // Refused (too many screens, logged out) or unreachable: ask why; refused → poll at once and say so,
        // otherwise try again later, then fall back to polling.
        source.close();
        source = null;
        askWhy().then(function (answer) {
          if (answer.status !== 200 || answer.body.code !== "ok") { refused(answer); return; }
          retry();
        }).catch(retry);
        return;
      }
      if (failures >= 5) { startPolling(); return; }
      setStatus("reconnecting");  // the browser reconnects by itself with Last-Event-ID
    };
  }

  function retry() {
    if (failures >= 3) { startPolling(); return; }
    setStatus("reconnecting");
    window.setTimeout(connect, 2000 * failures);
  }

  function leave() {
    leaving = true;
    if (source) { source.close(); source = null; }  // the server sees the stream end and frees its place at once
  }

  document.addEventListener("cityops:replay-start", function () { paused = true; });
  document.addEventListener("cityops:replay-end", function () {
    paused = false;
    var queued = held;
    held = [];
    queued.forEach(function (item) {
      document.dispatchEvent(new CustomEvent("cityops:" + item[0], {detail: item[1]}));
    });
  });
  function comeBack() {
    if (!leaving) { return; }
    leaving = false;
    if (pollTimer === null) { connect(); }  // missed events first (last_event_id)
  }

  window.addEventListener("pagehide", leave);
  window.addEventListener("beforeunload", function () {
    leave();
    window.setTimeout(comeBack, 3000);  // still here 3 s later (a download, a cancelled navigation): live again
  });
  window.addEventListener("pageshow", function (e) { if (e.persisted) { comeBack(); } });  // back from the cache

  window.cityopsLive = {lastId: function () { return lastId; }, startPolling: startPolling};
  setStatus("connecting");
  connect();
}());
