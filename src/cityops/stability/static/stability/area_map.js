/* A decision's area over the local base map (geo/basemap.js): its own polygon, or its region's outline; on the
   staff's page after publication, the linked city cases and disputes as dots (a case's dot opens its page).
   Labels are put in as text, never as HTML. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("stability-map-config");
  var el = document.getElementById("stability-map");
  if (!cfgEl || !el || typeof L === "undefined") return;
  var cfg = JSON.parse(cfgEl.textContent);
  var map = L.map(el, { zoomSnap: 0.25, preferCanvas: true }).setView([30.55, 114.22], 12);
  window.__stabilityMap = map;  // for the browser tests
  if (window.cityopsBasemap) cityopsBasemap.add(map);
  var area = L.geoJSON(cfg.area, {
    style: { color: cfg.colours.area, weight: 2, fillColor: cfg.colours.area, fillOpacity: cfg.own_polygon ? 0.15 : 0.05,
             dashArray: cfg.own_polygon ? null : "6 4" },
    interactive: false,
  }).addTo(map);
  cfg.points.forEach(function (p) {
    var dot = L.circleMarker([p.lat, p.lon], { radius: 6, color: "#fff", weight: 1,
                                               fillColor: cfg.colours[p.kind] || "#57606a", fillOpacity: 0.9 });
    var tip = document.createElement("span");
    tip.textContent = p.label;
    dot.bindTooltip(tip);
    if (p.url) dot.on("click", function () { window.location.href = p.url; });
    dot.addTo(map);
  });
  var bounds = area.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17, animate: false });
  el.dataset.points = String(cfg.points.length);
  el.dataset.area = "drawn";
})();
