/* Report form: category search, map pin, "use my location" or the typed address, photo count, and the nearby open cases of
   the same category ("is it one of these?") fetched from /portal/nearby.json. No external requests. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("report-config").textContent);
  var t = config.text;
  var lon = document.getElementById("lon"), lat = document.getElementById("lat");
  var map = L.map("report-map").setView(config.center, 12);
  window.__portalMap = map;  // for the browser tests
  if (window.cityopsBasemap) cityopsBasemap.add(map);  // outlines, names and water (geo/basemap.js)
  var marker = null;
  // Who put the pin: "resident" (a click on the map, "use my location", a pin kept from the form) or "address"
  // (found from the typed address). An address never moves the resident's own pin without asking.
  var pinnedBy = null;
  var pinInfo = document.getElementById("pin-info");
  var addressInfo = document.getElementById("address-info");

  function place(y, x, zoom, by) {
    lat.value = y.toFixed(6); lon.value = x.toFixed(6);
    if (marker) marker.setLatLng([y, x]); else marker = L.marker([y, x]).addTo(map);
    if (zoom) map.setView([y, x], zoom === true ? 16 : zoom);
    pinnedBy = by;
    pinInfo.dataset.placed = "1";
    checkNearby();
  }
  function unpin() {
    if (marker) { map.removeLayer(marker); marker = null; }
    lat.value = ""; lon.value = "";
    pinnedBy = null;
    delete pinInfo.dataset.placed;
    checkNearby();
  }
  map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, false, "resident"); });
  if (lat.value && lon.value) place(parseFloat(lat.value), parseFloat(lon.value), true, "resident");

  document.getElementById("use-location").addEventListener("click", function () {
    if (!navigator.geolocation) { alert(t.no_geo); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      place(pos.coords.latitude, pos.coords.longitude, true, "resident");
    }, function () { alert(t.no_geo); }, { enableHighAccuracy: true, timeout: 10000 });
  });

  // The typed address centres the map (the platform's one address parser, /geo/locate.json; its URL and words
  // come with the base map's settings). A failed search
  // takes away a pin an earlier address had put (it would be stale) and says so; the resident's own pin stays.
  var address = document.getElementById("address");
  var maps = window.cityopsBasemap ? cityopsBasemap.config : { locate: "/geo/locate.json", text: t };
  var lastSearched = "";
  function say(text, failed) {
    addressInfo.textContent = text;
    addressInfo.classList.toggle("error", !!failed);
    addressInfo.hidden = !text;
  }
  function searchAddress() {
    var q = address.value.trim();
    if (!q || q === lastSearched) return;
    lastSearched = q;
    var done = window.cityopsBasemap ? cityopsBasemap.busy(map) : function () {};
    fetch(maps.locate + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        done();
        if (address.value.trim() !== q) return;  // typed on meanwhile: that search answers
        if (!data.found) {
          if (pinnedBy === "address") unpin();
          var english = (document.documentElement.lang || "").indexOf("en") === 0;
          say((english ? data.message_en : data.message) + (pinnedBy === "resident" ? " · " + maps.text.kept : ""), true);
          return;
        }
        if (pinnedBy === "resident" && !window.confirm(maps.text.override.replace("%(address)s", q))) {
          map.setView([data.lat, data.lon], Math.min(data.zoom, 16));
          say(maps.text.kept, false);
          return;
        }
        place(data.lat, data.lon, data.zoom, "address");
        say(maps.text.found + "：" + data.label, false);
      })
      .catch(function () { done(); lastSearched = ""; });
  }
  var searchButton = document.getElementById("address-search");
  if (address && addressInfo && searchButton) {
    address.addEventListener("change", searchAddress);
    address.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); searchAddress(); }  // Enter searches; it does not submit
    });
    searchButton.addEventListener("click", function () { lastSearched = ""; searchAddress(); });
  }

  var search = document.getElementById("category-search");
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    document.querySelectorAll(".category-item").forEach(function (item) {
      item.hidden = q && item.dataset.search.toLowerCase().indexOf(q) < 0;
    });
  });
  document.querySelectorAll("input[name=category]").forEach(function (r) { r.addEventListener("change", checkNearby); });

  var photos = document.getElementById("photos"), photoError = document.getElementById("photo-error");
  photos.addEventListener("change", function () {
    var tooMany = photos.files.length > config.max_photos;
    photoError.hidden = !tooMany; photoError.textContent = tooMany ? t.too_many : "";
  });

  var form = document.getElementById("report-form");
  var supports = document.getElementById("supports");
  function checkNearby() {
    var cat = document.querySelector("input[name=category]:checked");
    var box = document.getElementById("nearby"), list = document.getElementById("nearby-list");
    if (!cat || !lat.value) { box.hidden = true; return; }
    var url = config.nearby + "?category=" + encodeURIComponent(cat.value) + "&lon=" + lon.value + "&lat=" + lat.value;
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      list.innerHTML = "";
      (data.cases || []).forEach(function (c) {
        var li = document.createElement("li");
        var text = document.createElement("span");
        text.textContent = c.code + " · " + c.distance_m + " m · " + c.status + " · " + c.description +
          (c.supporters ? " · " + c.supporters + " " + t.supporters : "");
        var b = document.createElement("button");
        b.type = "button"; b.className = "button support-button"; b.textContent = t.same; b.dataset.code = c.code;
        b.addEventListener("click", function () {
          supports.value = c.code;
          var d = document.getElementById("description");
          if (!d.value.trim()) d.value = t.same + "（" + c.code + "）";
          form.requestSubmit ? form.requestSubmit() : form.submit();
        });
        li.appendChild(text); li.appendChild(document.createTextNode(" ")); li.appendChild(b);
        list.appendChild(li);
      });
      box.hidden = !(data.cases && data.cases.length);
    });
  }
  form.addEventListener("submit", function (e) {
    if (photos.files.length > config.max_photos) { e.preventDefault(); photoError.hidden = false; photoError.textContent = t.too_many; return; }
    // Uploading photos takes a while on a phone: say so, and keep a second tap from sending the report twice.
    form.classList.add("is-loading");
    var button = document.getElementById("submit-report");
    if (button) button.disabled = true;
    var sending = document.getElementById("submit-loading");
    if (sending) sending.hidden = false;
  });
  window.addEventListener("pageshow", function () {  // back from the next page: the form works again
    form.classList.remove("is-loading");
    var button = document.getElementById("submit-report");
    if (button) button.disabled = false;
  });
})();
