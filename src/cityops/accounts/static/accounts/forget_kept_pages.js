/* The login page: nobody is signed in on this browser now. The copy of the visit page that its service worker kept
   for work without signal (disputes/static/disputes/visit_sw.js, caches "cityops-visit-*") is the last worker's — on
   a shared phone the next person must not open it offline — so it goes, with the files kept beside it; the page is
   kept again when a worker next opens it online. Visits waiting in the outbox (IndexedDB) stay: each is sent as the
   worker who recorded it, when that worker signs in on this phone again. */
(function () {
  "use strict";
  if (!("caches" in window)) return;
  caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf("cityops-visit-") === 0; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () {
    document.documentElement.setAttribute("data-kept-pages", "forgotten");
  });
})();
