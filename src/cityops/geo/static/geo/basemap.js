/* The local base map under every map of cityops (issue 13), served by cityops itself (geo/basemap.py):
   - the city's own base map when configured: a PMTiles file served at /geo/tiles/base/z/x/y (raster) or an XYZ
     tile URL (CITYOPS_TILE_URL);
   - district, street, community and grid outlines with their names, and the rivers and lakes, drawn from small
     JSON tiles that carry their shapes in tile pixels;
   - a loading indicator on the map while any of its layers takes longer than 300 ms.
   Use: cityopsBasemap.add(map) once the map exists; cityopsBasemap.busy(map) returns a function to call when a
   layer of the page's own (fetch) has arrived. Names are put in as text, never as HTML. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("basemap-config");
  if (!cfgEl || typeof L === "undefined") return;
  var cfg = JSON.parse(cfgEl.textContent);
  var SHOW_AFTER_MS = 300;

  var STYLE = {
    grid: { color: "rgba(191,57,137,0.55)", width: 0.8, dash: [3, 3] },
    community: { color: "rgba(26,127,55,0.8)", width: 1 },
    street: { color: "rgba(130,80,223,0.85)", width: 1.4 },
    district: { color: "rgba(31,111,235,0.95)", width: 2.2 },
  };
  var ORDER = ["grid", "community", "street", "district"];  // the coarsest on top

  // --- loading indicator -------------------------------------------------------------------------------------
  function indicator(map) {
    if (map._cityopsLoading) return map._cityopsLoading;
    var box = document.createElement("div");
    box.className = "map-loading";
    box.setAttribute("role", "status");
    box.hidden = true;
    box.textContent = cfg.text.loading;
    map.getContainer().appendChild(box);
    var state = { box: box, pending: 0, timer: null };
    map._cityopsLoading = state;
    return state;
  }

  function update(state) {
    if (state.pending > 0) {
      if (!state.timer && state.box.hidden) {
        state.timer = setTimeout(function () {
          state.timer = null;
          if (state.pending > 0) state.box.hidden = false;
        }, SHOW_AFTER_MS);
      }
    } else {
      if (state.timer) { clearTimeout(state.timer); state.timer = null; }
      state.box.hidden = true;
    }
  }

  function busy(map) {
    var state = indicator(map);
    var finished = false;
    state.pending += 1;
    update(state);
    return function () {
      if (finished) return;
      finished = true;
      state.pending -= 1;
      update(state);
    };
  }

  function watch(map, layer) {
    var done = null;
    layer.on("loading", function () { if (!done) done = busy(map); });
    layer.on("load", function () { if (done) { done(); done = null; } });
    layer.on("remove", function () { if (done) { done(); done = null; } });
  }

  // --- outline tiles ------------------------------------------------------------------------------------------
  function strokeLines(ctx, lines) {
    ctx.beginPath();
    lines.forEach(function (c) {
      ctx.moveTo(c[0], c[1]);
      for (var i = 2; i < c.length; i += 2) ctx.lineTo(c[i], c[i + 1]);
    });
    ctx.stroke();
  }

  function drawWater(ctx, water) {
    if (!water) return;
    ctx.setLineDash([]);
    ctx.fillStyle = "#b9d7f2";
    ctx.strokeStyle = "#86b6e3";
    ctx.lineWidth = 0.8;
    (water.areas || []).forEach(function (poly) {
      ctx.beginPath();
      poly.forEach(function (c) {
        ctx.moveTo(c[0], c[1]);
        for (var i = 2; i < c.length; i += 2) ctx.lineTo(c[i], c[i + 1]);
        ctx.closePath();
      });
      ctx.fill("evenodd");
    });
    ctx.lineWidth = 1;
    strokeLines(ctx, water.streams || []);
    ctx.strokeStyle = "#6fa8dc";
    ctx.lineWidth = 3;
    strokeLines(ctx, water.rivers || []);  // the major rivers (Yangtze, Han …)
  }

  // Each tile's JSON is fetched once for both layers below (outlines on canvas, names in their own pane).
  var pending = {};
  function tileData(coords) {
    var url = cfg.outlines.replace("{z}", coords.z).replace("{x}", coords.x).replace("{y}", coords.y);
    if (!pending[url]) {
      pending[url] = fetch(url, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .catch(function (err) { delete pending[url]; throw err; });  // asked again next time
      var keys = Object.keys(pending);
      if (keys.length > 256) delete pending[keys[0]];
    }
    return pending[url];
  }

  var Outlines = L.GridLayer.extend({
    options: { pane: "tilePane", zIndex: 5, maxZoom: 22, updateWhenZooming: false },

    createTile: function (coords, done) {
      var size = this.getTileSize();
      var ratio = window.devicePixelRatio || 1;
      var canvas = document.createElement("canvas");
      canvas.className = "basemap-tile";
      canvas.width = size.x * ratio;
      canvas.height = size.y * ratio;
      tileData(coords)
        .then(function (data) {
          var ctx = canvas.getContext("2d");
          ctx.scale(ratio * size.x / 256, ratio * size.y / 256);
          ctx.lineJoin = "round";
          ctx.lineCap = "round";
          drawWater(ctx, data.water);
          ORDER.forEach(function (level) {
            var lines = data.lines[level];
            if (!lines || !lines.length) return;
            var s = STYLE[level];
            ctx.strokeStyle = s.color;
            ctx.lineWidth = s.width;
            ctx.setLineDash(s.dash || []);
            strokeLines(ctx, lines);
          });
          done(null, canvas);
        })
        .catch(function (err) { done(err, canvas); });
      return canvas;
    },
  });

  // Names in a pane above every tile, so that no neighbouring tile (a lake's fill) covers a name that runs over
  // its own tile's edge.
  var Labels = L.GridLayer.extend({
    options: { pane: "basemapLabels", maxZoom: 22, updateWhenZooming: false },

    createTile: function (coords, done) {
      var size = this.getTileSize();
      var tile = document.createElement("div");
      tile.className = "basemap-labels";
      tileData(coords)
        .then(function (data) {
          data.labels.forEach(function (label) {
            var span = document.createElement("span");
            span.className = "basemap-label basemap-label-" + label.level;
            span.textContent = label.name;
            span.style.left = label.x * size.x / 256 + "px";
            span.style.top = label.y * size.y / 256 + "px";
            tile.appendChild(span);
          });
          done(null, tile);
        })
        .catch(function (err) { done(err, tile); });
      return tile;
    },
  });

  // --- the whole base map -----------------------------------------------------------------------------------
  function add(map) {
    var out = {};
    if (!map.options.maxZoom || map.options.maxZoom > 19) map.setMaxZoom(19);
    var base = cfg.base;
    if (base && base.kind === "raster") {
      out.base = L.tileLayer(base.url, {
        maxZoom: 19, maxNativeZoom: base.max_zoom, minNativeZoom: base.min_zoom,
        bounds: base.bounds, attribution: cfg.tile_attribution || "",
      }).addTo(map);
    } else if (cfg.tile_url) {
      out.base = L.tileLayer(cfg.tile_url, { maxZoom: 19, attribution: cfg.tile_attribution || "" }).addTo(map);
    }
    if (out.base) watch(map, out.base);
    if (!map.getPane("basemapLabels")) {
      var pane = map.createPane("basemapLabels");
      pane.style.zIndex = 350;  // above the tiles (200), below the page's own shapes (400) and markers (600)
      pane.style.pointerEvents = "none";
    }
    out.outlines = new Outlines({ attribution: cfg.water_attribution || "" });
    out.labels = new Labels();
    watch(map, out.outlines);
    var loaded = { outlines: false, labels: false };
    function mark(which) {
      return function () {
        loaded[which] = true;
        if (loaded.outlines && loaded.labels) map.getContainer().dataset.basemap = "loaded";
      };
    }
    out.outlines.on("load", mark("outlines"));
    out.labels.on("load", mark("labels"));
    out.outlines.addTo(map);
    out.labels.addTo(map);
    return out;
  }

  function fitCity(map, options) {
    if (cfg.city_bounds) map.fitBounds(cfg.city_bounds, options || { animate: false });
  }

  window.cityopsBasemap = { add: add, busy: busy, fitCity: fitCity, config: cfg };
})();
