/* The campaign's map: its visits as dots coloured by outcome (nothing found, resolved on the spot, a dispute, a city
   case) over the local base map (geo/basemap.js); a visit typed without a position is a hollow dot at the centre of
   its grid. Place names are put in as text, never as HTML. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("campaign-map-config");
  var el = document.getElementById("campaign-map");
  if (!cfgEl || !el || typeof L === "undefined") return;
  var cfg = JSON.parse(cfgEl.textContent);
  var map = L.map(el, { zoomSnap: 0.25, preferCanvas: true }).setView([30.55, 114.22], 12);
  window.__campaignMap = map;  // for the browser tests
  if (window.cityopsBasemap) cityopsBasemap.add(map);
  var bounds = [];
  cfg.points.forEach(function (p) {
    var colour = cfg.colours[p.outcome] || "#57606a";
    // A visit typed without a position sits at its grid's centre: hollow, so nobody takes it for the door.
    var dot = L.circleMarker([p.lat, p.lon], p.approx
      ? { radius: 6, color: colour, weight: 2, dashArray: "2 2", fillOpacity: 0 }
      : { radius: 6, color: "#fff", weight: 1, fillColor: colour, fillOpacity: 0.9 });
    var tip = document.createElement("span");
    tip.textContent = p.day + " · " + p.place + " · " + p.label;
    dot.bindTooltip(tip);
    dot.addTo(map);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 });
  else if (window.cityopsBasemap && cityopsBasemap.fitCity) cityopsBasemap.fitCity(map);
  el.dataset.points = String(cfg.points.length);
})();
