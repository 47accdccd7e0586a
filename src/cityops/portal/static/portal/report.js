/* Report form: category search, map pin or "use my location", photo count, and the nearby open cases of
   the same category ("is it one of these?") fetched from /portal/nearby.json. No external requests. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("report-config").textContent);
  var t = config.text;
  var lon = document.getElementById("lon"), lat = document.getElementById("lat");
  var map = L.map("report-map").setView(config.center, 12);
  window.__portalMap = map;  // for the browser tests
  if (config.tile_url) L.tileLayer(config.tile_url, { maxZoom: 19 }).addTo(map);
  var marker = null;

  function place(y, x, zoom) {
    lat.value = y.toFixed(6); lon.value = x.toFixed(6);
    if (marker) marker.setLatLng([y, x]); else marker = L.marker([y, x]).addTo(map);
    if (zoom) map.setView([y, x], 16);
    document.getElementById("pin-info").dataset.placed = "1";
    checkNearby();
  }
  map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, false); });
  if (lat.value && lon.value) place(parseFloat(lat.value), parseFloat(lon.value), true);

  document.getElementById("use-location").addEventListener("click", function () {
    if (!navigator.geolocation) { alert(t.no_geo); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      place(pos.coords.latitude, pos.coords.longitude, true);
    }, function () { alert(t.no_geo); }, { enableHighAccuracy: true, timeout: 10000 });
  });

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
    if (photos.files.length > config.max_photos) { e.preventDefault(); photoError.hidden = false; photoError.textContent = t.too_many; }
  });
})();
