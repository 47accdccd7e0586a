/* Case maps with Leaflet served locally: the local base map (district, street, community and grid outlines with
   their names; geo/basemap.js) under a marker for the case. On the intake page a click sets the pin and
   fills the lon/lat inputs (typed coordinates move the pin too); window.cityopsCaseMap lets intake.js move the pin.
   With cfg.locate_point (the geo API's /locate) a picked point is located: its regions are shown by name, and a point
   outside the city, or outside cfg.area (the user's regions, [{code, name}]; empty: anywhere), is not kept — the
   inputs are cleared and #pin-region says why (the dispute desk). */
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
    function typed() {  // coordinates typed, or sent back with the form: the pin there (and located, if asked)
      var lo = parseFloat(lon.value), la = parseFloat(lat.value);
      if (!isFinite(lo) || !isFinite(la) || Math.abs(lo) > 180 || Math.abs(la) > 90) return;
      place(la, lo);
      if (cfg.locate_point && region) locate(la, lo);
    }
    lon.addEventListener("change", typed);
    lat.addEventListener("change", typed);
    map.on("click", function (ev) {
      window.cityopsCaseMap.set(ev.latlng.lat, ev.latlng.lng, map.getZoom());
    });
    var region = document.getElementById("pin-region");
    var english = (document.documentElement.lang || "").indexOf("en") === 0;
    var asked = 0;  // only the latest pick's answer counts
    function tell(text, state) {  // state: "ok", "refused" or "unknown" (the lookup failed; the server checks)
      region.textContent = text;
      region.hidden = !text;
      region.classList.toggle("outside", state === "refused");
      el.dataset.located = state;
    }
    function refuse(text) {
      lon.value = "";
      lat.value = "";
      tell(text, "refused");
    }
    function locate(la, lo) {
      var mine = ++asked;
      el.dataset.located = "asking";
      var q = "?lon=" + encodeURIComponent(lo.toFixed(6)) + "&lat=" + encodeURIComponent(la.toFixed(6));
      fetch(cfg.locate_point + q, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); })
        .then(function (answer) {
          if (mine !== asked) return;
          var body = answer.body || {};
          if (answer.status !== 200) {
            refuse((english ? body.message_en : body.message) || cfg.text.outside_city);
            return;
          }
          var refs = ["district", "street", "community", "grid"].map(function (k) { return body[k]; })
            .filter(Boolean);
          if (!refs.length) { refuse(cfg.text.outside_city); return; }
          var deepest = refs[refs.length - 1].code;
          var area = cfg.area || [];
          var inside = !area.length || area.some(function (a) { return deepest.indexOf(a.code) === 0; });
          var names = refs.map(function (r) { return r.name; }).join(" · ");
          if (!inside) {
            refuse(cfg.text.outside_area + " " + names + " · " + cfg.text.your_area + " " +
              area.map(function (a) { return a.name; }).join("、"));
            return;
          }
          tell(cfg.text.region + " " + names, "ok");
        })
        .catch(function () { if (mine === asked) tell(cfg.text.locate_failed, "unknown"); });
    }
    if (lon.value && lat.value) typed();
    window.cityopsCaseMap = {
      set: function (la, lo, zoom, label) {
        lon.value = lo.toFixed(6);
        lat.value = la.toFixed(6);
        place(la, lo, zoom);
        var info = document.getElementById("pin-info");
        if (info) info.textContent = cfg.text.picked + ": " + lo.toFixed(6) + ", " + la.toFixed(6) + (label ? " · " + label : "");
        if (cfg.locate_point && region) locate(la, lo);
      },
    };
  }
})();
