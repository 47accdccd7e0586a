/* Case maps with Leaflet served locally: the local base map (district, street, community and grid outlines with
   their names; geo/basemap.js) under a marker for the case. On the intake page a click sets the pin and
   fills the lon/lat inputs (typed coordinates move the pin too); window.cityopsCaseMap lets intake.js move the pin. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("case-map-config");
  var el = document.getElementById("case-map") || document.getElementById("intake-map");
  if (!cfgEl || !el || typeof L === "undefined") return;
  var cfg = JSON.parse(cfgEl.textContent);
  var picking = el.id === "intake-map";
  var map = L.map(el, { zoomSnap: 0.25, preferCanvas: true }).setView([30.59, 114.3], 10);
  window.__caseMap = map;  // for the browser tests
  var marker = null;

  // The local base map: outlines with names, water, the city's own tiles if configured (geo/basemap.js).
  if (window.cityopsBasemap) {
    var layers = cityopsBasemap.add(map);
    layers.outlines.once("load", function () { el.dataset.regions = "loaded"; });  // the outlines are drawn
    if (!cfg.point) cityopsBasemap.fitCity(map);
  }

  function place(lat, lon, zoom) {
    var ll = L.latLng(lat, lon);
    if (marker) marker.setLatLng(ll);
    else marker = L.marker(ll, { keyboard: false }).addTo(map);
    map.setView(ll, zoom || Math.max(map.getZoom(), 14), { animate: false });
  }

  if (cfg.point) place(cfg.point[1], cfg.point[0], 15);

  if (picking) {
    var lon = document.getElementById("id_lon");
    var lat = document.getElementById("id_lat");
    if (lon.value && lat.value) place(parseFloat(lat.value), parseFloat(lon.value));
    function typed() {
      var lo = parseFloat(lon.value), la = parseFloat(lat.value);
      if (isFinite(lo) && isFinite(la) && Math.abs(lo) <= 180 && Math.abs(la) <= 90) place(la, lo);
    }
    lon.addEventListener("change", typed);
    lat.addEventListener("change", typed);
    map.on("click", function (ev) {
      window.cityopsCaseMap.set(ev.latlng.lat, ev.latlng.lng, map.getZoom());
    });
    window.cityopsCaseMap = {
      set: function (la, lo, zoom, label) {
        lon.value = lo.toFixed(6);
        lat.value = la.toFixed(6);
        place(la, lo, zoom);
        var info = document.getElementById("pin-info");
        if (info) info.textContent = cfg.text.picked + ": " + lo.toFixed(6) + ", " + la.toFixed(6) + (label ? " · " + label : "");
      },
    };
  }
})();
