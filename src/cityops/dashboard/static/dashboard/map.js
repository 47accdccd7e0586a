/* 一图展示: the dashboard's map and figures (dashboard/map_views.py, API dashboard/map_api.py).
   - The layers the user may see come from /layers; each switched-on layer is fetched for the map's view (bbox,
     zoom, the drill-down region, the cases' filter) after every move, the older answer dropped.
   - Cases come as points (few) or as counts per bin (many): circles sized by count, coloured by the overdue share;
     the density layer draws the same bins as shaded squares. A click on a bin zooms in.
   - The areas layer is the drill-down: the current region's children coloured by load or by score (a switch; the
     score is the cases evaluation's, /scores); a click drills in (map and figures together), the breadcrumb goes
     back up; a grid's card gives its load, score and rank.
   - The figures (/kpis) for the region and the period; trend and bars drawn by dashChart (map_chart.js).
   - The view is in the address (period, region, the map's cases, the areas' colouring, the layers on): a reload or
     a shared link shows the same, and each step of the drill-down is an entry of the history (Back goes up).
   Every text from the server is put in as text, never as HTML. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("dmap-config").textContent);
  var T = cfg.text;
  var root = document.getElementById("dmap");
  var mapEl = document.getElementById("dmap-map");
  var state = { region: "", layers: {}, on: {}, inputs: {}, drawn: {}, seq: {}, area: null, areaMode: "load", scores: null,
                period: null };
  var LIGHT = { green: "#1a7f37", yellow: "#bf8700", red: "#cf222e", "": "#6e7781" };

  if (cfg.wall) document.body.classList.add("dash-wall");
  var map = L.map(mapEl, { preferCanvas: true, zoomSnap: 1 });
  if (window.cityopsBasemap) { cityopsBasemap.add(map); cityopsBasemap.fitCity(map); }
  if (!map._loaded) map.setView([30.59, 114.3], 10);

  function node(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function get(path, params) {
    var q = new URLSearchParams(params || {}).toString();
    return fetch(cfg.api + path + (q ? "?" + q : ""), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { if (!r.ok) throw body; return body; }); });
  }

  // --- period and filters --------------------------------------------------------------------------------------
  // A preset (today, the last 7/30/90/365 days) or a custom from/to (two dates; the server checks them: kpis.
  // parse_period, at most 366 days, its bilingual message shown beside them). The period drives the figures, the
  // trend, the map's "reported in the period" cases and the areas' scores together, and stays in the address
  // (?days=30 or ?from=…&to=…; see viewToAddress) once the server has taken it.
  var daysSel = document.getElementById("dmap-days");
  var fromIn = document.getElementById("dmap-from"), toIn = document.getElementById("dmap-to");
  var customBox = document.getElementById("dmap-custom"), periodError = document.getElementById("dmap-period-error");
  var statusSel = document.getElementById("dmap-status");

  function iso(d) { return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0"); }

  function period() {
    if (daysSel.value === "custom") return { from: fromIn.value, to: toIn.value };
    var days = parseInt(daysSel.value, 10) || 7;
    var end = new Date(cfg.today + "T00:00:00");
    var start = new Date(end.getTime() - (days - 1) * 86400000);
    return { from: iso(start), to: iso(end) };
  }

  function periodFromAddress() {
    var q = new URLSearchParams(location.search);
    if (q.get("from") || q.get("to")) {
      daysSel.value = "custom";
      fromIn.value = q.get("from") || "";
      toIn.value = q.get("to") || "";
    } else if (q.get("days") && daysSel.querySelector("option[value='" + CSS.escape(q.get("days")) + "']")) {
      daysSel.value = q.get("days");
    } else {
      daysSel.value = "7";
    }
    customBox.hidden = daysSel.value !== "custom";
  }

  // The period as the address holds it: {days} for a preset other than the default 7, {from, to} for a custom one.
  function periodQuery() {
    if (daysSel.value === "custom") return { from: fromIn.value, to: toIn.value };
    return daysSel.value !== "7" ? { days: daysSel.value } : {};
  }

  // --- the view in the address ------------------------------------------------------------------------------------
  // A reload or a link sent to someone shows the same view: the period (as the server last took it), the drill-down
  // region (?region=), the map's cases (?status=), the areas coloured by score (?areas=score) and the layers on
  // (?layers=a,b, when not the defaults). A step of the drill-down is a new entry of the browser's history, any
  // other choice changes the current entry; Back (or Forward) shows the view of the entry it comes to, as a reload
  // of it would — so Back goes up the drill-down. The address is only a wish: the API checks each part against the
  // user's area (a region outside it is refused, and the page shows the server's message).
  var VIEW_KEYS = ["days", "from", "to", "region", "status", "areas", "layers"];

  function layersOn() { return Object.keys(state.layers).filter(function (k) { return state.on[k]; }); }

  function viewToAddress(push) {
    var q = new URLSearchParams(location.search);  // keeps what is not ours (?wall=1)
    VIEW_KEYS.forEach(function (k) { q.delete(k); });
    var p = state.period || {};
    Object.keys(p).forEach(function (k) { q.set(k, p[k]); });
    if (state.region) q.set("region", state.region);
    if (statusSel.value !== "open") q.set("status", statusSel.value);
    if (state.areaMode === "score") q.set("areas", "score");
    var on = layersOn(), defaults = Object.keys(state.layers).filter(function (k) { return state.layers[k].on; });
    if (on.join(",") !== defaults.join(",")) q.set("layers", on.join(","));
    var text = q.toString();
    var url = location.pathname + (text ? "?" + text : "") + location.hash;
    if (url === location.pathname + location.search + location.hash) return;
    if (push) history.pushState(null, "", url);
    else history.replaceState(null, "", url);
  }

  // The part of the view the form holds (the period and the map's cases); what is not in the address is the default.
  function formFromAddress() {
    periodFromAddress();
    state.period = periodQuery();
    var status = new URLSearchParams(location.search).get("status");
    statusSel.value = status && statusSel.querySelector("option[value='" + CSS.escape(status) + "']") ? status : "open";
  }

  // The layers on and the areas' colouring (once the layers are known); returns the region to drill to.
  function viewFromAddress() {
    var q = new URLSearchParams(location.search);
    var wanted = q.has("layers") ? q.get("layers").split(",") : null;
    Object.keys(state.layers).forEach(function (k) {
      state.on[k] = wanted ? wanted.indexOf(k) >= 0 : state.layers[k].on;
      state.inputs[k].checked = state.on[k];
      if (!state.on[k]) removeLayer(k);
    });
    var mode = q.get("areas") === "score" ? "score" : "load";
    var radio = document.querySelector("input[name=areamode][value=" + mode + "]");  // none: may not read scores
    if (radio) { radio.checked = true; state.areaMode = mode; }
    areaLegend();
    return q.get("region") || "";
  }

  function showPeriodError(body) {
    var english = (document.documentElement.lang || "").indexOf("en") === 0;
    periodError.textContent = (english ? body.message_en : body.message) || T.error;
    periodError.hidden = false;
    root.dataset.periodError = body.code || "error";
    [fromIn, toIn].forEach(function (i) { i.setAttribute("aria-invalid", "true"); });
  }

  function clearPeriodError() {
    periodError.textContent = "";
    periodError.hidden = true;
    delete root.dataset.periodError;
    [fromIn, toIn].forEach(function (i) { i.removeAttribute("aria-invalid"); });
  }

  // A new period: the figures first (the server checks the period there); when it is good, the address, the
  // map's period filter and the scores follow.
  function periodChanged() {
    customBox.hidden = daysSel.value !== "custom";
    if (daysSel.value === "custom" && (!fromIn.value || !toIn.value)) return;
    loadFigures().then(function (ok) {
      if (!ok) return;
      state.period = periodQuery();
      viewToAddress(false);
      if (statusSel.value === "period") refreshLayers();
      if (state.areaMode === "score") loadScores();
    });
  }

  function caseFilter() {
    var status = statusSel.value;
    if (status === "period") { var p = period(); return { status: "all", from: p.from, to: p.to }; }
    return { status: status };
  }

  function viewParams() {
    var b = map.getBounds();
    function c(v, lo, hi) { return Math.max(lo, Math.min(hi, v)).toFixed(5); }
    var params = {
      bbox: [c(b.getWest(), -180, 179.9), c(b.getSouth(), -90, 89.9), c(b.getEast(), -179.9, 180), c(b.getNorth(), -89.9, 90)].join(","),
      zoom: String(Math.max(3, Math.min(19, Math.round(map.getZoom())))),
    };
    if (state.region) params.region = state.region;
    var f = caseFilter();
    Object.keys(f).forEach(function (k) { params[k] = f[k]; });
    return params;
  }

  // --- cards ----------------------------------------------------------------------------------------------------
  function card(p, extra) {
    var box = node("div", "dmap-card");
    box.appendChild(node("strong", "", p.title));
    (p.lines || []).forEach(function (line) { if (line) box.appendChild(node("div", "", line)); });
    if (p.url) { var a = node("a", "", T.open_page); a.href = p.url; box.appendChild(a); }
    if (extra) box.appendChild(extra);
    return box;
  }

  function caseCard(p) {
    var lines = [p.category + " · " + p.state_label, p.place || "", new Date(p.created_at).toLocaleString()];
    return card({ title: p.code, lines: lines, url: p.url });
  }

  // --- drawing ---------------------------------------------------------------------------------------------------
  function radius(n, max) { return 6 + 22 * Math.sqrt(n / Math.max(max, 1)); }

  function drawCases(data) {
    var group = L.featureGroup();
    if (data.kind === "points") {
      data.points.forEach(function (p) {
        var popup = caseCard(p);  // an element built node by node: Leaflet never parses a string as HTML
        L.circleMarker([p.lat, p.lon], { radius: 5, color: "#fff", weight: 1, fillColor: LIGHT[p.light] || LIGHT[""], fillOpacity: 0.9 })
          .bindPopup(popup).addTo(group);
      });
    } else {
      var max = 0;
      data.bins.forEach(function (b) { if (b.n > max) max = b.n; });
      data.bins.forEach(function (b) {
        var share = b.late / b.n;
        var color = share > 0.2 ? LIGHT.red : share > 0.05 ? LIGHT.yellow : "#0b5cad";
        var m = L.circleMarker([b.lat, b.lon], { radius: radius(b.n, max), color: "#fff", weight: 1, fillColor: color, fillOpacity: 0.75 });
        var count = node("span", "", String(b.n));
        m.bindTooltip(count, { permanent: b.n >= max / 4, direction: "center", className: "dmap-count" });
        m.on("click", function () { map.setView([b.lat, b.lon], Math.min(map.getZoom() + 2, 19)); });
        m.addTo(group);
      });
    }
    return group;
  }

  function drawHeat(data) {
    var group = L.featureGroup();
    if (data.kind === "points") {
      data.points.forEach(function (p) {
        L.circleMarker([p.lat, p.lon], { radius: 10, stroke: false, fillColor: "#e16f24", fillOpacity: 0.25, interactive: false }).addTo(group);
      });
      return group;
    }
    var max = 0, s = data.size;
    data.bins.forEach(function (b) { if (b.n > max) max = b.n; });
    data.bins.forEach(function (b) {
      var x = Math.floor(b.lon / s) * s, y = Math.floor(b.lat / s) * s;
      var t = Math.sqrt(b.n / Math.max(max, 1));
      L.rectangle([[y, x], [y + s, x + s]], { stroke: false, fillColor: t > 0.66 ? "#b3261e" : t > 0.33 ? "#e16f24" : "#f2c94c", fillOpacity: 0.2 + 0.5 * t, interactive: false }).addTo(group);
    });
    return group;
  }

  function loadColor(t) { return t > 0.66 ? cfg.load_colors[2] : t > 0.33 ? cfg.load_colors[1] : cfg.load_colors[0]; }

  function drawAreas(data) {
    var max = 0;
    data.features.forEach(function (f) { if (f.properties.n > max) max = f.properties.n; });
    return L.geoJSON(data, {
      style: function (f) {
        var t = f.properties.n / Math.max(max, 1);
        if (f.properties.fill) return { color: "#0a2540", weight: 1.5, fillColor: f.properties.fill, fillOpacity: 0.55 };
        return { color: "#0a2540", weight: 1.5, fillColor: loadColor(t), fillOpacity: 0.08 + 0.3 * t };
      },
      onEachFeature: function (f, lyr) {
        var p = f.properties;
        var tip = node("span", "", p.title + " " + (p.tip || p.n));  // a region's or layer's name is data, not markup
        lyr.bindTooltip(tip, { sticky: true });
        lyr.on("click", function (e) {
          if (p.drill) { L.DomEvent.stop(e); drill(p.code, true); }
          else { var popup = card(p); lyr.bindPopup(popup).openPopup(e.latlng); }
        });
      },
    });
  }

  function drawGeneric(data) {
    return L.geoJSON(data, {
      pointToLayer: function (f, latlng) {
        var p = f.properties;
        var r = p.n ? radius(p.n, p.n * 2) : 6;
        return L.circleMarker(latlng, { radius: r, color: "#fff", weight: 1, fillColor: p.color || "#6e7781", fillOpacity: 0.85 });
      },
      style: function (f) { return { color: f.properties.color || "#6e7781", weight: 2, fillOpacity: 0.15 }; },
      onEachFeature: function (f, lyr) { var popup = card(f.properties); lyr.bindPopup(popup); },
    });
  }

  var DRAW = { cases: drawCases, heat: drawHeat, areas: drawAreas };

  // The areas are the drill-down's children, already in the /area answer: drawn from it, not fetched again.
  // Coloured by load (open cases, relative to the busiest one shown) or by score (the cases evaluation of regions
  // for the period: /scores, its grade's colour); a grid's card says both.
  function scoreLines(s) {
    if (!s || s.score === null) return [T.no_score];
    var lines = [T.score + " " + s.score.toFixed(1) + (s.grade ? " · " + s.grade : "")];
    lines.push(s.rank ? T.rank.replace("%(rank)s", s.rank).replace("%(of)s", s.ranked) : T.insufficient);
    return lines;
  }

  function areaFeatures(area) {
    var scored = state.areaMode === "score" && state.scores ? state.scores : null;
    var byCode = {};
    if (scored) scored.children.forEach(function (s) { byCode[s.code] = s; });
    return { type: "FeatureCollection", total: area.children.length, features: area.children.map(function (c) {
      var load = T.cases + " " + c.n + " · " + T.late + " " + c.late;
      var props = { code: c.code, level: c.level, n: c.n, late: c.late, title: c.name, url: "", drill: c.level !== "grid",
                    lines: [load] };
      if (scored) {
        var s = byCode[c.code];
        props.fill = s ? s.color : cfg.none_color;
        props.lines = scoreLines(s).concat([load]);
        props.tip = s && s.score !== null ? T.score + " " + s.score.toFixed(1) + (s.grade ? " " + s.grade : "") : T.no_score;
      }
      return { type: "Feature", geometry: c.shape, properties: props };
    }) };
  }

  function areaLegend() {
    var box = document.getElementById("dmap-area-legend");
    if (!box) return;
    box.textContent = "";
    var pairs = state.areaMode === "score" ? (state.scores ? state.scores.legend : []) : cfg.load_legend;
    pairs.forEach(function (pair) {
      var item = node("span", "dmap-legend-item");
      var sw = node("i", "dmap-swatch dmap-swatch-sq"); sw.style.background = pair[0];
      item.appendChild(sw);
      item.appendChild(node("span", "", pair[1]));
      box.appendChild(item);
    });
    mapEl.dataset.areaMode = state.areaMode;
  }

  function loadScores() {
    if (state.areaMode !== "score") { state.scores = null; areaLegend(); return loadLayer("areas"); }
    var p = period();
    var params = { from: p.from, to: p.to };
    if (state.region) params.region = state.region;
    var want = JSON.stringify(params);
    state.scoresFor = want;
    return get("/scores", params).then(function (answer) {
      if (state.scoresFor !== want || state.areaMode !== "score") return;
      state.scores = answer;
      areaLegend();
      mapEl.dataset.areasScored = String(answer.children.filter(function (s) { return s.score !== null; }).length);
      return loadLayer("areas");
    }).catch(function () { state.scores = null; areaLegend(); });
  }

  function loadLayer(key) {
    if (key === "areas") {
      if (!state.area || !state.on.areas) return Promise.resolve();
      if (state.drawn.areas) map.removeLayer(state.drawn.areas);
      state.drawn.areas = drawAreas(areaFeatures(state.area)).addTo(map);
      state.drawn.areas.bringToBack();
      mapEl.dataset.layer_areas = String(state.area.children.length);
      return Promise.resolve();
    }
    var seq = (state.seq[key] || 0) + 1;
    state.seq[key] = seq;
    var done = window.cityopsBasemap ? cityopsBasemap.busy(map) : function () {};
    return get("/layers/" + encodeURIComponent(key), viewParams()).then(function (data) {
      done();
      if (state.seq[key] !== seq || !state.on[key]) return;
      if (state.drawn[key]) map.removeLayer(state.drawn[key]);
      state.drawn[key] = (DRAW[key] || drawGeneric)(data).addTo(map);
      if (key === "areas" && state.drawn[key].bringToBack) state.drawn[key].bringToBack();
      var total = data.total !== undefined ? data.total : (data.features || []).length;
      mapEl.dataset["layer_" + key] = String(total);
      if (key === "cases") {
        document.getElementById("dmap-note").textContent = T.in_view + " " + T.cases + " " + total.toLocaleString() +
          " · " + (data.kind === "bins" ? T.bins : T.points);
        mapEl.dataset.casesKind = data.kind;
      }
    }).catch(function () { done(); });
  }

  function removeLayer(key) {
    if (state.drawn[key]) map.removeLayer(state.drawn[key]);
    delete state.drawn[key];
    delete mapEl.dataset["layer_" + key];
  }

  function refreshLayers(moved) {
    Object.keys(state.on).forEach(function (key) {
      if (state.on[key] && !(moved === true && key === "areas")) loadLayer(key);
    });
  }

  function buildLayerSwitches(list) {
    var box = document.getElementById("dmap-layers");
    list.forEach(function (layer) {
      state.layers[layer.key] = layer;
      state.on[layer.key] = layer.on;
      var label = node("label", "dmap-layer");
      var input = document.createElement("input");
      input.type = "checkbox"; input.checked = layer.on; input.name = "layer"; input.value = layer.key;
      state.inputs[layer.key] = input;
      input.addEventListener("change", function () {
        state.on[layer.key] = input.checked;
        if (input.checked) loadLayer(layer.key);
        else removeLayer(layer.key);
        viewToAddress(false);
      });
      label.appendChild(input);
      label.appendChild(node("span", "", layer.label));
      (layer.legend || []).forEach(function (pair) {
        var sw = node("i", "dmap-swatch"); sw.style.background = pair[0]; sw.title = pair[1];
        label.appendChild(sw);
      });
      box.appendChild(label);
    });
  }

  // --- drill-down ---------------------------------------------------------------------------------------------------
  function crumbs(area) {
    var nav = document.getElementById("dmap-crumbs");
    nav.textContent = "";
    function link(text, code) {
      var b = node("button", "linklike dmap-crumb", text);
      b.type = "button";
      b.addEventListener("click", function () { drill(code, true); });
      return b;
    }
    var items = [link(cfg.top, "")].concat((area.breadcrumb || []).map(function (c) { return link(c.name, c.code); }));
    items.forEach(function (item, i) {
      if (i) nav.appendChild(node("span", "dmap-sep", "›"));
      if (i === items.length - 1) item.setAttribute("aria-current", "page");
      nav.appendChild(item);
    });
  }

  // drill(code, push): to a region ("" = the top of the user's area); push: a new entry of the history (a click),
  // not the current one replaced (the start, Back, a new filter).
  function drill(code, push) {
    state.region = code;
    root.dataset.region = code;
    viewToAddress(push);
    var params = caseFilter();
    if (code) params.region = code;
    var want = JSON.stringify(params);
    state.areaFor = want;
    return get("/area", params).then(function (area) {
      if (state.areaFor !== want) return;
      delete root.dataset.error;
      state.area = area;
      state.scores = null;
      delete mapEl.dataset.areasScored;
      crumbs(area);
      if (area.bounds) map.fitBounds([[area.bounds[1], area.bounds[0]], [area.bounds[3], area.bounds[2]]], { animate: false });
      refreshLayers();
      if (state.areaMode === "score") loadScores();
      loadFigures();
    }).catch(function (body) {
      if (state.areaFor !== want) return;
      // Refused (outside the user's area, no such region, a bad code): nothing of it is shown, the server's
      // message says why, and the breadcrumb leads back to the user's own area.
      state.area = null;
      Object.keys(state.drawn).forEach(removeLayer);
      crumbs({ breadcrumb: [] });
      showError(body);
    });
  }

  // --- figures -----------------------------------------------------------------------------------------------------
  function pct(v) { return v === null || v === undefined ? "—" : (100 * v).toFixed(1) + "%"; }

  function tile(label, value, alert, url) {
    var t = node(url ? "a" : "div", "dfig" + (alert ? " dfig-alert" : ""));
    if (url) t.href = url;
    t.appendChild(node("span", "dfig-value", value));
    t.appendChild(node("span", "dfig-label", label));
    return t;
  }

  function section(title) {
    var s = node("div", "dfig-section");
    s.appendChild(node("h2", "", title));
    return s;
  }

  // The server's own message when it gave one (in the page's language), or ours.
  function showError(body) {
    var english = (document.documentElement.lang || "").indexOf("en") === 0;
    var box = document.getElementById("dmap-figures");
    box.textContent = "";
    box.appendChild(node("p", "dmap-error", (body && (english ? body.message_en : body.message)) || T.error));
    root.dataset.error = (body && body.code) || "error";
  }

  function loadFigures() {
    var p = period();
    var params = { from: p.from, to: p.to };
    if (state.region) params.region = state.region;
    var want = JSON.stringify(params);
    state.figuresFor = want;
    return get("/kpis", params).then(function (k) {
      if (state.figuresFor !== want) return false;
      clearPeriodError();
      var box = document.getElementById("dmap-figures");
      box.textContent = "";
      box.dataset.region = k.region || "";
      var c = k.cases;
      var tiles = node("div", "dfigs");
      tiles.appendChild(tile(T.today_intake, c.today.intake.toLocaleString()));
      tiles.appendChild(tile(T.open, c.today.open.toLocaleString()));
      tiles.appendChild(tile(T.overdue, c.today.overdue.toLocaleString(), c.today.overdue > 0));
      tiles.appendChild(tile(T.period_intake, c.period.intake.toLocaleString()));
      tiles.appendChild(tile(T.on_time, pct(c.period.on_time_rate)));
      tiles.appendChild(tile(T.satisfaction, pct(c.period.satisfaction)));
      (k.alarms || []).forEach(function (f) { tiles.appendChild(tile(f.label, f.value, f.alert, f.url)); });
      box.appendChild(tiles);

      var trend = section(T.trend);
      trend.appendChild(dashChart.line([c.trend.intake, c.trend.handled], c.trend.days, [T.intake, T.handled]));
      box.appendChild(trend);

      var ch = section(T.channels);
      ch.appendChild(c.period.channels.length ? dashChart.bars(c.period.channels.map(function (r) { return { label: r.label, n: r.n }; }))
                                              : node("p", "muted", T.nothing));
      box.appendChild(ch);
      var top = section(T.top_categories);
      top.appendChild(c.period.top_categories.length ? dashChart.bars(c.period.top_categories.map(function (r) { return { label: r.name, n: r.n }; }))
                                                     : node("p", "muted", T.nothing));
      box.appendChild(top);
      if (k.cases.levels) {
        var lv = section(T.levels);
        var closed = k.cases.levels.reduce(function (s, r) { return s + r.resolved; }, 0);
        lv.appendChild(closed ? dashChart.bars(k.cases.levels.map(function (r) {
          // Each bar is the level's own share of the closings (the bars' lengths and the figures agree); the
          // 属地解决率 proper — resolved at the community or the street — is the line under them.
          return { label: (document.documentElement.lang || "").indexOf("en") === 0 ? r.name_en : r.name, n: r.resolved, value: pct(r.share) };
        })) : node("p", "muted", T.no_levels));
        var local = k.cases.levels.filter(function (r) { return r.level === "street"; })[0];
        if (closed && local) lv.appendChild(node("p", "muted", T.local_rate + " " + pct(local.local_rate)));
        box.appendChild(lv);
      }
      (k.domains || []).forEach(function (d) {
        var s = section(d.label);
        var t = node("div", "dfigs");
        d.figures.forEach(function (f) {
          var fig = tile(f.label, f.value, f.alert, f.url);
          if (f.hint) fig.appendChild(node("span", "dfig-hint", f.hint));
          t.appendChild(fig);
        });
        s.appendChild(t);
        box.appendChild(s);
      });
      box.dataset.loaded = "1";
      box.dataset.period = k.cases.trend.days[0] + "/" + k.cases.trend.days[k.cases.trend.days.length - 1];
      return true;
    }).catch(function (body) {
      if (state.figuresFor !== want) return false;
      if (body && body.code && /date|range|period|characters/.test(body.code)) showPeriodError(body);
      else showError();
      return false;
    });
  }

  // --- wall mode -----------------------------------------------------------------------------------------------------
  document.getElementById("dmap-wall-btn").addEventListener("click", function () {
    var on = !document.body.classList.contains("dash-wall");
    document.body.classList.toggle("dash-wall", on);
    root.classList.toggle("dmap-wall", on);
    this.textContent = on ? T.wall_off : T.wall_on;
    if (on && document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(function () {});
    if (!on && document.fullscreenElement) document.exitFullscreen();
    setTimeout(function () { map.invalidateSize(); }, 100);
  });

  daysSel.addEventListener("change", periodChanged);
  fromIn.addEventListener("change", periodChanged);
  toIn.addEventListener("change", periodChanged);
  formFromAddress();
  statusSel.addEventListener("change", function () { drill(state.region, false); });
  Array.prototype.forEach.call(document.querySelectorAll("input[name=areamode]"), function (input) {
    input.addEventListener("change", function () {
      if (input.checked) { state.areaMode = input.value; viewToAddress(false); loadScores(); }
    });
  });
  // Back and Forward: the view of the entry they come to (a step of the drill-down up or down).
  window.addEventListener("popstate", function () {
    formFromAddress();
    clearPeriodError();
    drill(viewFromAddress(), false);
  });
  areaLegend();
  var moveTimer = null;
  map.on("moveend", function () { clearTimeout(moveTimer); moveTimer = setTimeout(function () { refreshLayers(true); }, 150); });

  // For the live feed's script and the browser tests: the map, the drill-down and a refresh of the layers.
  window.cityopsDashboard = { map: map, drill: function (code) { return drill(code, true); }, refresh: refreshLayers,
                              region: function () { return state.region; } };

  get("/layers").then(function (list) {
    buildLayerSwitches(list);
    return drill(viewFromAddress(), false);
  }).catch(showError);
})();
