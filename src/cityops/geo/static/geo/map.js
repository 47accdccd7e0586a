/* Drill-down map: districts → streets → communities → grids, from /api/v1/geo/regions.geojson.
   Under it the local base map (geo/basemap.js): outlines and names of every level, water, the city's own tiles. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("geo-config").textContent);
  var t = config.text;
  var map = L.map("geo-map", { zoomSnap: 0.25, preferCanvas: true }).setView([30.59, 114.3], 9);
  window.__geoMap = map;  // for the browser tests
  if (window.cityopsBasemap) cityopsBasemap.add(map);  // outlines and names under the drill-down layer
  var NEXT = { city: "district", district: "street", street: "community", community: "grid" };
  var SIMPLIFY = { district: "0.0003", street: "0.0001", community: "0.00003", grid: "" };
  var COLORS = { district: "#1f6feb", street: "#8250df", community: "#1a7f37", grid: "#bf3989" };
  var layer = null;
  var trail = [];  // [{code, name, level}]
  var crumbs = document.getElementById("geo-crumbs");
  var info = document.getElementById("geo-info");

  function url(level, parent) {
    var q = "?level=" + encodeURIComponent(level);
    if (parent) q += "&parent=" + encodeURIComponent(parent);
    if (SIMPLIFY[level]) q += "&simplify=" + SIMPLIFY[level];
    return config.api + "regions.geojson" + q;
  }

  function drawCrumbs() {
    crumbs.innerHTML = "";
    var all = [{ code: null, name: t.city, level: "city" }].concat(trail);
    all.forEach(function (item, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "linklike";
      b.textContent = item.name;
      b.disabled = i === all.length - 1;
      b.addEventListener("click", function () {
        trail = trail.slice(0, i);
        show(item.level === "city" ? "district" : NEXT[item.level], item.code);
      });
      crumbs.appendChild(b);
      if (i < all.length - 1) crumbs.appendChild(document.createTextNode(" › "));
    });
  }

  function show(level, parent) {
    drawCrumbs();
    info.textContent = t.loading;
    var done = window.cityopsBasemap ? cityopsBasemap.busy(map) : function () {};
    fetch(url(level, parent), { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      })
      .then(function (data) {
        if (layer) map.removeLayer(layer);
        layer = L.geoJSON(data, {
          style: { color: COLORS[level], weight: level === "grid" ? 1 : 2, fillOpacity: 0.12 },
          onEachFeature: function (feature, lyr) {
            var p = feature.properties;
            // A node, not a string: Leaflet puts string content in as HTML, and names come from the admin and
            // from GeoJSON imports (stored XSS, issue 10).
            var tip = document.createElement("span");
            tip.textContent = p.name + " · " + p.code + (p.generated ? " · " + t.generated : "");
            lyr.bindTooltip(tip, { sticky: true });
            lyr.on("click", function () {
              if (!NEXT[p.level]) {
                info.textContent = p.name + " (" + p.code + ")  " + p.area_km2.toFixed(3) + " km²";
                return;
              }
              trail.push({ code: p.code, name: p.name, level: p.level });
              show(NEXT[p.level], p.code);
            });
          },
        }).addTo(map);
        if (data.features.length) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
        info.textContent = data.features.length + " " + t.count;
        done();
      })
      .catch(function (err) {
        info.textContent = t.failed + " (" + err.message + ")";
        done();
      });
  }

  show("district", null);
})();
