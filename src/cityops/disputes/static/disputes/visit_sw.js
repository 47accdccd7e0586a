/* The visit page's service worker (天天敲门 without signal). Served by cityops at /disputes/campaigns/visit/sw.js
   (disputes/visit_offline.py), so its scope is the visit pages only.
   - The page itself: from the network when there is one (and kept), else the copy kept last time — a grid worker who
     loses signal in a stairwell can open or reload the page and go on typing visits.
   - Its files (scripts, styles): the kept copy at once, refreshed from the network behind it.
   - Nothing else: a POST (a visit sent) and the API always go to the network; visits typed offline wait in the
     page's IndexedDB outbox and are sent by visit.js, each with its client_id (stored once).
   visit.js tells the worker which files the page uses ({type: "cache", urls}) and is answered "cached". */
"use strict";

var CACHE = "cityops-visit-v1";
var PAGE = new URL(self.registration.scope).pathname;  // /disputes/campaigns/visit/
var OFFLINE = "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
  "<title>无信号 / No signal</title><p>无信号，本机还没有保存登记走访页面：请在有信号时打开一次本页。</p>" +
  "<p>No signal, and this phone has not kept the visit page yet: open it once while online.</p>";

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf("cityops-visit-") === 0 && n !== CACHE; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function keep(cache, key, response) {
  // Only a page the server gave (not a redirect to the login page, not an error) is kept.
  if (response && response.ok && !response.redirected && response.type === "basic") {
    return cache.put(key, response.clone()).then(function () { return response; }, function () { return response; });
  }
  return Promise.resolve(response);
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "cache" || !Array.isArray(data.urls)) return;
  var reply = event.ports && event.ports[0];
  var wanted = data.urls.map(function (u) { return new URL(u, self.location.origin); })
    .filter(function (u) { return u.origin === self.location.origin; });
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(wanted.map(function (u) {
      var key = u.pathname === PAGE ? PAGE : u.href;
      return fetch(u.href, { credentials: "same-origin" })
        .then(function (r) { return keep(cache, key, r); }, function () {});
    })).then(function () {
      // Files the page no longer uses (an older hashed name) are dropped.
      var now = wanted.map(function (u) { return u.pathname === PAGE ? new URL(PAGE, self.location.origin).href : u.href; });
      return cache.keys().then(function (requests) {
        return Promise.all(requests.filter(function (r) { return now.indexOf(r.url) === -1; })
          .map(function (r) { return cache.delete(r); }));
      });
    });
  }).then(function () { if (reply) reply.postMessage("cached"); },
          function () { if (reply) reply.postMessage("failed"); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === PAGE) {
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return fetch(request).then(function (r) { return keep(cache, PAGE, r); }, function () {
        return cache.match(PAGE).then(function (kept) {
          return kept || new Response(OFFLINE, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
        });
      });
    }));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(request).then(function (kept) {
        var fresh = fetch(request).then(function (r) { return keep(cache, request, r); });
        if (kept) {
          event.waitUntil(fresh.catch(function () {}));
          return kept;
        }
        return fresh;
      });
    }));
  }
});
