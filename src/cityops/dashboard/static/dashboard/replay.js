/* Replay of a day (issue 15): the form [data-cityops-replay] (the replay API's URL) loads the chosen day's events
 * and plays them at the chosen speed (60×, 600×, 3600×) through the same DOM events as the live feed
 * (cityops:case / cityops:alarm / cityops:state, with detail.replay = true). Before it plays, and again before each
 * seek (the events up to the new time are then sent at once, so the map shows the day as it stood then):
 * cityops:replay-start {day, at}; when it ends or is stopped: cityops:replay-end {day}. */
(function () {
  "use strict";
  var form = document.querySelector("[data-cityops-replay]");
  if (!form) { return; }
  var api = form.getAttribute("data-cityops-replay");
  var dayInput = document.getElementById("replay-day");
  var speedInput = document.getElementById("replay-speed");
  var playBtn = document.getElementById("replay-play");
  var pauseBtn = document.getElementById("replay-pause");
  var stopBtn = document.getElementById("replay-stop");
  var slider = document.getElementById("replay-slider");
  var clock = document.getElementById("replay-clock");
  var info = document.getElementById("replay-info");
  var statusEl = document.getElementById("live-status");

  var DAY_MS = 86400000;
  var loaded = null;  // {day, start (ms), events: [{...detail, t}]}
  var position = 0;   // ms since the day's start
  var next = 0;       // index of the next event to send
  var timer = null;
  var last = 0;
  var active = false;

  dayInput.value = dayInput.value || (function () {
    var d = new Date(Date.now() - DAY_MS);
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }());

  function fire(name, detail) { document.dispatchEvent(new CustomEvent(name, {detail: detail})); }

  function showClock() {
    var minutes = Math.min(1439, Math.floor(position / 60000));
    clock.textContent = String(Math.floor(minutes / 60)).padStart(2, "0") + ":" + String(minutes % 60).padStart(2, "0");
    slider.value = String(Math.floor(position / 1000));
  }

  function load(day) {
    var events = [];
    function page(after) {
      return fetch(api + "?day=" + encodeURIComponent(day) + "&after=" + after + "&limit=5000", {credentials: "same-origin"})
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .then(function (body) {
          body.events.forEach(function (row) {
            var e = {};
            body.fields.forEach(function (f, i) { e[f] = row[i]; });
            e.replay = true;
            e.t = Date.parse(e.at);
            events.push(e);
          });
          if (body.next_after !== null) { return page(body.next_after); }
          events.sort(function (a, b) { return a.t - b.t; });
          return {day: day, start: Date.parse(body.start), events: events};
        });
    }
    return page(0);
  }

  function sendUntil(limit) {
    var events = loaded.events;
    while (next < events.length && events[next].t - loaded.start <= limit) {
      fire("cityops:" + events[next].type, events[next]);
      next += 1;
    }
  }

  function tick() {
    var now = performance.now();
    position = Math.min(DAY_MS, position + (now - last) * Number(speedInput.value));
    last = now;
    sendUntil(position);
    showClock();
    if (position >= DAY_MS || next >= loaded.events.length && position >= DAY_MS) { pause(); }
  }

  function begin() {
    active = true;
    fire("cityops:replay-start", {day: loaded.day, at: position});
    if (statusEl && statusEl.getAttribute("data-label-replay")) {
      statusEl.textContent = statusEl.getAttribute("data-label-replay");
    }
    slider.disabled = false;
    stopBtn.disabled = false;
  }

  function play() {
    if (timer !== null) { return; }
    if (!loaded || loaded.day !== dayInput.value) {
      if (!dayInput.value) { return; }
      playBtn.disabled = true;
      info.textContent = "…";
      load(dayInput.value).then(function (day) {
        loaded = day;
        position = 0;
        next = 0;
        info.textContent = day.events.length ? day.events.length + " " + form.getAttribute("data-label-count")
          : form.getAttribute("data-label-none");
        playBtn.disabled = false;
        begin();
        play();
      }).catch(function () {
        playBtn.disabled = false;
        info.textContent = form.getAttribute("data-label-error");
      });
      return;
    }
    if (!active) { begin(); }
    last = performance.now();
    timer = window.setInterval(tick, 100);
    playBtn.disabled = true;
    pauseBtn.disabled = false;
  }

  function pause() {
    if (timer !== null) { window.clearInterval(timer); timer = null; }
    playBtn.disabled = false;
    pauseBtn.disabled = true;
  }

  function stop() {
    pause();
    if (active) { fire("cityops:replay-end", {day: loaded ? loaded.day : null}); }
    active = false;
    position = 0;
    next = 0;
    showClock();
    slider.disabled = true;
    stopBtn.disabled = true;
    var live = document.querySelector("[data-cityops-live]");
    if (statusEl && live) {
      var label = statusEl.getAttribute("data-label-" + live.getAttribute("data-status"));
      if (label) { statusEl.textContent = label; }
    }
  }

  function seek() {
    if (!loaded) { return; }
    position = Number(slider.value) * 1000;
    next = 0;
    fire("cityops:replay-start", {day: loaded.day, at: position});  // the map clears, then gets the day so far
    sendUntil(position);
    showClock();
  }

  playBtn.addEventListener("click", play);
  pauseBtn.addEventListener("click", pause);
  stopBtn.addEventListener("click", stop);
  slider.addEventListener("input", seek);
  dayInput.addEventListener("change", function () { if (active) { stop(); } loaded = null; info.textContent = ""; });
  form.addEventListener("submit", function (e) { e.preventDefault(); play(); });
  window.cityopsReplay = {play: play, pause: pause, stop: stop};
}());
