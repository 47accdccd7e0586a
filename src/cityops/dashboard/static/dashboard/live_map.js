/* The live feed and the replay on the dashboard's map (map.js exposes window.cityopsDashboard = {map, refresh, …}).
 * Listens to the DOM events of live.js and replay.js (cityops:case / cityops:alarm / cityops:state):
 * - live events: a marker per case or alarm in the "live" layer (blue: case, red: alarm), enlarged for a moment
 *   when it arrives or changes state, with a card (code → its page, category or rule, state) on click; the
 *   map's own layers are refreshed at most every 10 s so counts and bins follow;
 * - replay (cityops:replay-start … cityops:replay-end): the live layer is hidden and the day's events are drawn in
 *   their own layer, cleared at each seek and at the end; the live layer and the map's layers come back after.
 * Load after map.js. Texts are put in as text, never as HTML. */
(function () {
  "use strict";
  var dash = window.cityopsDashboard;
  if (!dash || !window.L) { return; }
  var map = dash.map;
  var COLOURS = {case: "#0550ae", alarm: "#cf222e"};
  var MAX_MARKERS = 500;
  var renderer = L.svg({padding: 0.5});  // the map draws on canvas; these few markers are SVG (a class each, in front)
  var live = {layer: L.layerGroup().addTo(map), markers: new Map()};
  var replay = {layer: L.layerGroup(), markers: new Map()};
  var refreshTimer = null;

  function card(d) {
    var box = document.createElement("div");
    box.className = "live-card";
    var link = document.createElement("a");
    link.href = d.url;
    link.textContent = d.code;
    var what = document.createElement("div");
    what.textContent = (d.label || "") + " · " + (d.state_label || d.state);
    var when = document.createElement("div");
    when.className = "muted";
    when.textContent = new Date(d.at).toLocaleString();
    box.appendChild(link);
    box.appendChild(what);
    box.appendChild(when);
    return box;
  }

  function draw(e) {
    var d = e.detail;
    if (d.lon === null || d.lat === null || d.lon === undefined || d.lat === undefined) { return; }
    var set = d.replay ? replay : live;
    var key = d.kind + ":" + d.subject_id;
    var marker = set.markers.get(key);
    if (!marker) {
      marker = L.circleMarker([d.lat, d.lon], {radius: 7, color: "#fff", weight: 2, fillColor: COLOURS[d.kind] || "#6e7781",
                                               fillOpacity: 0.9, className: "live-marker live-marker-" + d.kind,
                                               renderer: renderer});
      marker.addTo(set.layer);
    } else {
      set.markers.delete(key);  // re-inserted below: the Map keeps the most recent last
    }
    set.markers.set(key, marker);
    marker.cityopsEvent = d;
    var popup = card(d);  // built node by node, never a string of HTML
    marker.bindPopup(popup);
    marker.setRadius(12);
    window.setTimeout(function () { marker.setRadius(7); }, 1500);
    if (set.markers.size > MAX_MARKERS) {
      var oldest = set.markers.keys().next().value;
      set.layer.removeLayer(set.markers.get(oldest));
      set.markers.delete(oldest);
    }
    if (!d.replay && refreshTimer === null && typeof dash.refresh === "function") {
      refreshTimer = window.setTimeout(function () { refreshTimer = null; dash.refresh(); }, 10000);
    }
  }

  ["case", "alarm", "state"].forEach(function (type) { document.addEventListener("cityops:" + type, draw); });
  document.addEventListener("cityops:replay-start", function () {
    map.removeLayer(live.layer);
    replay.layer.clearLayers();
    replay.markers.clear();
    replay.layer.addTo(map);
  });
  document.addEventListener("cityops:replay-end", function () {
    map.removeLayer(replay.layer);
    replay.layer.clearLayers();
    replay.markers.clear();
    live.layer.addTo(map);
    if (typeof dash.refresh === "function") { dash.refresh(); }
  });
  document.addEventListener("cityops:live-reload", function () {
    if (typeof dash.refresh === "function") { dash.refresh(); }
  });
  window.cityopsLiveMap = {
    live: function () { return Array.from(live.markers.values()).map(function (m) { return m.cityopsEvent; }); },
    replayed: function () { return Array.from(replay.markers.values()).map(function (m) { return m.cityopsEvent; }); }
  };
}());
