/* Public case map from /portal/map.json (rounded points, no personal data), filtered by category and district. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var map = L.map("case-map", { preferCanvas: true }).setView(config.center, 11);
  if (window.cityopsBasemap) cityopsBasemap.add(map);  // outlines, names and water (geo/basemap.js)
  var layer = null;
  var form = document.getElementById("map-filter");
  function load() {
    var q = new URLSearchParams(new FormData(form)).toString();
    var done = window.cityopsBasemap ? cityopsBasemap.busy(map) : function () {};
    fetch(config.data + "?" + q, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      done();
      if (layer) map.removeLayer(layer);
      layer = L.geoJSON(data, {
        pointToLayer: function (f, latlng) {
          var closed = f.properties.status === "closed";
          return L.circleMarker(latlng, { radius: 6, color: closed ? "#2e7d32" : "#e6a700", fillOpacity: 0.7 });
        },
        onEachFeature: function (f, lyr) {
          var p = f.properties, div = document.createElement("div");
          var a = document.createElement("a");
          a.href = config.track + "?code=" + encodeURIComponent(p.code); a.textContent = p.code;
          div.appendChild(document.createTextNode(p.category_name + " · " + p.status_text + " · " + p.district + " · " + p.reported + " "));
          div.appendChild(a);
          lyr.bindPopup(div);
        },
      }).addTo(map);
      document.getElementById("map-count").textContent = data.features.length + " " + config.text.count;
      document.getElementById("case-map").dataset.loaded = String(data.features.length);
      if (data.features.length) map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 15 });
    }).catch(done);
  }
  form.addEventListener("change", load);
  load();
})();
