/* The dashboard's live feed (issue 15). Starts by itself when an element [data-cityops-live] (its stream's URL) is
 * on the page. Each event of the stream is dispatched on `document` as a CustomEvent:
 *   cityops:case  (a new case)   cityops:alarm (a new IoT alarm)   cityops:state (a case or alarm changed state)
 * with detail {kind, id, subject_id, code, action, state, state_label, label, lon, lat, region_code, url, at,
 * replay: false}. The status goes out as cityops:live-status {status: connecting|live|reconnecting|polling|closed}.
 * Server-sent events; the browser reconnects by itself and sends the last id it received (Last-Event-ID), the
 * server replays what was missed. Where a stream cannot be held (no EventSource, or a proxy that buffers), it
 * falls back to asking the replay API for today's new events every 5 seconds. */
(function () {
  "use strict";
  var root = document.querySelector("[data-cityops-live]");
  if (!root) { return; }
  var streamUrl = root.getAttribute("data-cityops-live");
  var replayUrl = root.getAttribute("data-replay-url");
  var statusEl = document.getElementById("live-status");
  var seen = new Set();
  var order = [];
  var lastId = null;
  var source = null;
  var failures = 0;
  var pollTimer = null;
  var paused = false;  // while a replay plays, live events are kept back and sent when it ends
  var held = [];

  function setStatus(status) {
    root.setAttribute("data-status", status);
    if (statusEl) {
      statusEl.setAttribute("data-status", status);
      var label = statusEl.getAttribute("data-label-" + status);
      if (label) { statusEl.textContent = label; }
    }
    document.dispatchEvent(new CustomEvent("cityops:live-status", {detail: {status: status}}));
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

  function startPolling() {
    if (pollTimer !== null) { return; }
    if (source) { source.close(); source = null; }
    setStatus("polling");
    poll(lastId === null);
    pollTimer = window.setInterval(function () { poll(false); }, 5000);
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
      failures += 1;
      if (source.readyState === EventSource.CLOSED) {
        // Refused (too many screens, logged out) or unreachable: try again later, then fall back to polling.
        source.close();
        if (failures >= 3) { startPolling(); return; }
        setStatus("reconnecting");
        window.setTimeout(connect, 2000 * failures);
        return;
      }
      if (failures >= 5) { startPolling(); return; }
      setStatus("reconnecting");  // the browser reconnects by itself with Last-Event-ID
    };
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
  window.addEventListener("pagehide", function () { if (source) { source.close(); } });

  window.cityopsLive = {lastId: function () { return lastId; }, startPolling: startPolling};
  setStatus("connecting");
  connect();
}());
