/* Intake forms with the map picker (cases/_map_picker.html): the case intake's grouped category list filtered as
   one types (when the form has one); address search and "use my location" move the map pin (map.js). The form
   works without JavaScript too (address only). */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("case-map-config").textContent);
  var search = document.getElementById("category-search");
  var select = document.getElementById("id_category");
  var info = document.getElementById("pin-info");

  if (search && select) search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    var first = null;
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      var shown = 0;
      Array.prototype.forEach.call(group.querySelectorAll("option"), function (opt) {
        var hit = !q || opt.dataset.search.toLowerCase().indexOf(q) !== -1;
        opt.hidden = !hit;
        if (hit) { shown += 1; if (!first) first = opt; }
      });
      group.hidden = shown === 0;
    });
    if (q && first && (select.selectedIndex < 0 || select.options[select.selectedIndex].hidden)) first.selected = true;
  });
  if (search) search.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") ev.preventDefault();
  });

  document.getElementById("address-search").addEventListener("click", function () {
    var text = document.getElementById("id_address").value.trim();
    if (!text) return;
    info.textContent = cfg.text.searching;
    fetch(cfg.locate + "?q=" + encodeURIComponent(text), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var english = (document.documentElement.lang || "").indexOf("en") === 0;
        if (!data.found) { info.textContent = (english ? data.message_en : data.message) || cfg.text.not_found; return; }
        window.cityopsCaseMap.set(data.lat, data.lon, 15, data.label);
      })
      .catch(function () { info.textContent = cfg.text.not_found; });
  });

  document.getElementById("use-location").addEventListener("click", function () {
    if (!navigator.geolocation) { info.textContent = cfg.text.no_geo; return; }
    navigator.geolocation.getCurrentPosition(
      function (pos) { window.cityopsCaseMap.set(pos.coords.latitude, pos.coords.longitude, 16); },
      function () { info.textContent = cfg.text.no_geo; },
      { enableHighAccuracy: true, timeout: 10000 }
    );
  });
})();
