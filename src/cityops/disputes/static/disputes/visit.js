/* 登记走访 on a phone, with or without signal (天天敲门, issue 14).
   A typed visit is first kept in the browser (IndexedDB, photo included) with the client_id the page made for it,
   then sent to the API; it leaves the browser's outbox only once the server has it (201, or 200 when the server
   already had that client_id — a visit whose answer was lost on the way is sent again and stored once).
   Sending is tried at once, when the phone is back online (the `online` event), when the page is opened, and
   every 15 s while something waits. A visit the server refuses (4xx: bad input) stays in the outbox with the
   reason until the worker removes it; a network failure or 5xx is simply tried again later.
   Without IndexedDB the form posts normally (campaign_views.visit_page). The page itself and its files are kept by
   a service worker (visit_sw.js, registered at the end), so that it also opens and reloads without signal. */
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  var cfgEl = document.getElementById("visit-config");
  if (!form || !cfgEl || !window.indexedDB || !window.fetch || !window.FormData || !window.Promise) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var T = cfg.text;
  var english = (document.documentElement.lang || "").indexOf("en") === 0;
  var DB_NAME = "cityops-visits";
  var STORE = "outbox";
  var RETRY_MS = 15000;

  // --- storage --------------------------------------------------------------------------------------------
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "client_id" }); };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function tx(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode);
        var result = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function put(rec) { return tx("readwrite", function (s) { return s.put(rec); }); }
  function remove(id) { return tx("readwrite", function (s) { return s.delete(id); }); }
  function all() {
    return tx("readonly", function (s) { return s.getAll(); }).then(function (recs) {
      // Only this account's visits: a phone shared by two workers sends each one's visits as themselves.
      return (recs || []).filter(function (r) { return r.user === cfg.user; })
        .sort(function (a, b) { return a.typed_at - b.typed_at; });
    });
  }

  // --- ids ------------------------------------------------------------------------------------------------
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- what the page shows --------------------------------------------------------------------------------
  var outbox = document.getElementById("outbox");
  var empty = document.getElementById("outbox-empty");
  var count = document.getElementById("outbox-count");
  var net = document.getElementById("net-status");
  var note = null;

  function showNet() {
    var online = navigator.onLine !== false;
    net.textContent = online ? T.online : T.offline;
    net.classList.toggle("offline", !online);
  }

  function render() {
    return all().then(function (recs) {
      outbox.textContent = "";
      recs.forEach(function (r) {
        var li = document.createElement("li");
        li.dataset.clientId = r.client_id;
        li.className = r.state === "refused" ? "refused" : "waiting";
        var when = new Date(r.typed_at);
        li.appendChild(document.createTextNode(
          ("0" + when.getHours()).slice(-2) + ":" + ("0" + when.getMinutes()).slice(-2) + " " + r.summary + " · " +
          (r.state === "refused" ? T.refused : T.waiting)));
        if (r.state === "refused") {
          var why = document.createElement("span");
          why.className = "why";
          why.textContent = r.error;
          li.appendChild(why);
          var del = document.createElement("button");
          del.type = "button";
          del.className = "linklike";
          del.textContent = T.remove;
          del.addEventListener("click", function () { remove(r.client_id).then(render); });
          li.appendChild(del);
        }
        outbox.appendChild(li);
      });
      count.textContent = String(recs.length);
      empty.hidden = recs.length > 0;
      outbox.dataset.waiting = String(recs.filter(function (r) { return r.state !== "refused"; }).length);
      return recs;
    });
  }

  function say(text) {
    if (!note) {
      note = document.createElement("p");
      note.className = "notice";
      note.setAttribute("role", "status");
      form.parentNode.insertBefore(note, form);
    }
    note.textContent = text;
  }

  function addToday(visit) {
    var list = document.getElementById("visits-today");
    var blank = document.getElementById("visits-today-empty");
    if (blank) blank.remove();
    var li = document.createElement("li");
    var at = new Date(visit.visited_at);
    li.textContent = ("0" + at.getHours()).slice(-2) + ":" + ("0" + at.getMinutes()).slice(-2) + " " + visit.place + " ";
    var tag = document.createElement("span");
    tag.className = "outcome outcome-" + visit.outcome;
    tag.textContent = visit.outcome_label;
    li.appendChild(tag);
    list.insertBefore(li, list.firstChild);
  }

  // --- sending --------------------------------------------------------------------------------------------
  function csrf() {
    var el = form.querySelector("input[name=csrfmiddlewaretoken]");
    return el ? el.value : "";
  }

  // Resolves true to go on with the next visit, false to stop until the next try (no signal, server trouble).
  function send(rec) {
    var body = new FormData();
    Object.keys(rec.fields).forEach(function (k) { body.append(k, rec.fields[k]); });
    if (rec.photo) body.append("photo", rec.photo, rec.photo_name || "photo.jpg");
    return fetch(cfg.api, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (answer) {
        if (r.status === 200 || r.status === 201) {
          return remove(rec.client_id).then(function () {
            if (answer && answer.place) addToday(answer);
            return true;
          });
        }
        if (r.status === 401 || (r.status === 403 && answer.code === "csrf_failed")) {
          say(T.login);
          return false;
        }
        if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
          rec.state = "refused";
          rec.error = (english ? answer.message_en : answer.message) || ("HTTP " + r.status);
          return put(rec).then(function () { return true; });
        }
        return false;  // 5xx, 408, 429: later
      });
    }, function () { return false; });  // no signal
  }

  var flushing = false;
  var again = false;
  function flush() {
    if (flushing) { again = true; return Promise.resolve(); }
    flushing = true;
    return all().then(function (recs) {
      var waiting = recs.filter(function (r) { return r.state !== "refused"; });
      return waiting.reduce(function (chain, rec) {
        return chain.then(function (goOn) { return goOn ? send(rec) : false; });
      }, Promise.resolve(true));
    }).catch(function () { /* storage trouble: the next try reads again */ })
      .then(function () {
        flushing = false;
        return render();
      }).then(function () {
        if (again) { again = false; return flush(); }
      });
  }

  // --- the form -------------------------------------------------------------------------------------------
  var outcome = document.getElementById("id_outcome");
  function toggle() {
    Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-outcome]"), function (fs) {
      fs.hidden = fs.dataset.outcome !== outcome.value;
      fs.disabled = fs.hidden;  // hidden details are neither checked nor sent
    });
    // What the server would refuse is asked for here, before the visit waits in the outbox for hours.
    form.findings.required = outcome.value !== "nothing";
  }
  outcome.addEventListener("change", toggle);
  toggle();

  document.getElementById("use-position").addEventListener("click", function () {
    var info = document.getElementById("position-info");
    if (!navigator.geolocation) { info.textContent = T.no_position; return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.lon.value = pos.coords.longitude.toFixed(6);
      form.lat.value = pos.coords.latitude.toFixed(6);
      info.textContent = T.position + " " + form.lon.value + ", " + form.lat.value;
    }, function () { info.textContent = T.no_position; }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });

  form.client_id.value = newId();
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!form.place.value.trim()) form.place.value = "";
    if (!form.checkValidity()) { form.reportValidity(); return; }
    var fields = {};
    new FormData(form).forEach(function (value, key) {
      if (key !== "photo" && key !== "csrfmiddlewaretoken") fields[key] = value;
    });
    fields.visited_at = new Date().toISOString();
    var file = form.photo.files && form.photo.files[0];
    var rec = {
      client_id: fields.client_id, user: cfg.user, fields: fields, photo: file || null,
      photo_name: file ? file.name : "", typed_at: Date.now(), summary: fields.place.trim(), state: "waiting", error: "",
    };
    var keep = { campaign_id: form.campaign_id.value, region_code: form.region_code.value };
    put(rec).then(function () {
      form.reset();
      form.campaign_id.value = keep.campaign_id;  // the next door is in the same campaign and grid
      form.region_code.value = keep.region_code;
      form.client_id.value = newId();
      toggle();
      say(navigator.onLine === false ? T.offline : T.saved);
      return render();
    }).then(flush, function () {
      say(T.no_storage);
      form.submit();  // nothing kept: post the plain form (the server takes the same client_id once)
    });
  });

  window.addEventListener("online", function () { showNet(); flush(); });
  window.addEventListener("offline", showNet);
  setInterval(function () {
    if (outbox.dataset.waiting && outbox.dataset.waiting !== "0" && navigator.onLine !== false) flush();
  }, RETRY_MS);
  showNet();
  render().then(flush);  // what an earlier visit of this page left waiting

  // --- the page kept for a stairwell without signal ----------------------------------------------------------
  // The service worker (visit_sw.js, served at the form's data-sw, its scope the visit pages) keeps this page and
  // the files it uses, so that it opens and reloads offline; it is told which files those are and answers when
  // they are kept (#visit-form[data-offline=ready]; "none" where the browser has no service workers).
  function keepForOffline() {
    if (!navigator.serviceWorker || !form.dataset.sw || !window.MessageChannel) {
      form.dataset.offline = "none";
      return;
    }
    navigator.serviceWorker.register(form.dataset.sw, { scope: form.dataset.swScope }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      var urls = [location.pathname];
      Array.prototype.forEach.call(document.querySelectorAll("script[src], link[rel=stylesheet][href]"),
        function (el) { urls.push(el.src || el.href); });
      var channel = new MessageChannel();
      channel.port1.onmessage = function (ev) { form.dataset.offline = ev.data === "cached" ? "ready" : "failed"; };
      reg.active.postMessage({ type: "cache", urls: urls }, [channel.port2]);
    }).catch(function () { form.dataset.offline = "failed"; });
  }
  if (navigator.onLine !== false) keepForOffline();
  else form.dataset.offline = "offline";  // opened from the kept copy: nothing to refresh now
})();
