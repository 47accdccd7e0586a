/* Call screen map: one pin at the point parsed from the spoken address, updated after every htmx swap.
   The local base map (geo/basemap.js) gives the context: outlines and names of districts down to grids. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("hl-config").textContent);
  var map = L.map("hl-map", { zoomSnap: 0.25 }).setView(config.center, 10);
  if (window.cityopsBasemap) cityopsBasemap.add(map);  // outlines, names and water (geo/basemap.js)
  // "Other category": typing a code selects it. Here, not in an oninput attribute: the Content-Security-Policy
  // runs no inline script.
  document.body.addEventListener("input", function (ev) {
    if (ev.target.id !== "hl-other") return;
    var radio = document.getElementById("hl-other-radio");
    radio.value = ev.target.value.toUpperCase();
    radio.checked = true;
  });
  var marker = null;
  document.body.addEventListener("htmx:afterSwap", function () {
    var pin = document.getElementById("hl-pin");
    var raw = pin ? pin.getAttribute("data-point") : "";
    if (marker) { map.removeLayer(marker); marker = null; }
    if (!raw) return;
    var p = JSON.parse(raw);
    marker = L.marker([p.lat, p.lon]).addTo(map);
    map.setView([p.lat, p.lon], 14);
  });
})();
