/* Tiny SVG charts of the dashboard (no chart library: two kinds of chart, drawn as SVG elements — no inline
   style, so the strict CSP holds, and the text scales with the page on the wall screens).
   dashChart.line(series, days, labels) -> <svg>: one polyline per series over the days, with the first and last
   day and the highest value written on the axes.
   dashChart.bars(rows) -> <div>: one horizontal bar per row ({label, n}), the longest row full width. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var COLORS = ["#0b5cad", "#2e7d32", "#e16f24", "#8250df"];

  function el(name, attrs, text) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function line(series, days, labels) {
    var W = 320, H = 140, L = 30, R = 8, T = 10, B = 22;
    var max = 1;
    series.forEach(function (s) { s.forEach(function (v) { if (v > max) max = v; }); });
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, class: "dchart", role: "img",
                          "aria-label": labels.join(" / ") });
    svg.appendChild(el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "dchart-axis" }));
    svg.appendChild(el("text", { x: L - 4, y: T + 8, class: "dchart-tick", "text-anchor": "end" }, String(max)));
    svg.appendChild(el("text", { x: L - 4, y: H - B, class: "dchart-tick", "text-anchor": "end" }, "0"));
    if (days.length) {
      svg.appendChild(el("text", { x: L, y: H - 6, class: "dchart-tick" }, days[0].slice(5)));
      svg.appendChild(el("text", { x: W - R, y: H - 6, class: "dchart-tick", "text-anchor": "end" },
                         days[days.length - 1].slice(5)));
    }
    var step = days.length > 1 ? (W - L - R) / (days.length - 1) : 0;
    series.forEach(function (s, i) {
      var pts = s.map(function (v, k) {
        var x = days.length > 1 ? L + k * step : (L + W - R) / 2;
        return x.toFixed(1) + "," + (H - B - (v / max) * (H - B - T)).toFixed(1);
      });
      if (pts.length === 1) pts.push(pts[0]);
      svg.appendChild(el("polyline", { points: pts.join(" "), fill: "none", stroke: COLORS[i % COLORS.length],
                                       "stroke-width": 2, class: "dchart-line" }));
    });
    var legend = el("g", {});
    labels.forEach(function (label, i) {
      var x = L + 6 + i * 90;
      legend.appendChild(el("rect", { x: x, y: T - 2, width: 10, height: 4, fill: COLORS[i % COLORS.length] }));
      legend.appendChild(el("text", { x: x + 14, y: T + 3, class: "dchart-tick" }, label));
    });
    svg.appendChild(legend);
    return svg;
  }

  function bars(rows) {
    var box = document.createElement("div");
    box.className = "dbars";
    var max = 1;
    rows.forEach(function (r) { if (r.n > max) max = r.n; });
    rows.forEach(function (r) {
      var row = document.createElement("div");
      row.className = "dbar";
      var name = document.createElement("span");
      name.className = "dbar-label";
      name.textContent = r.label;
      var track = document.createElement("span");
      track.className = "dbar-track";
      var fill = document.createElement("span");
      fill.className = "dbar-fill";
      fill.style.width = (100 * r.n / max).toFixed(1) + "%";
      track.appendChild(fill);
      var n = document.createElement("span");
      n.className = "dbar-n";
      n.textContent = r.value !== undefined ? r.value : String(r.n);
      row.appendChild(name); row.appendChild(track); row.appendChild(n);
      box.appendChild(row);
    });
    return box;
  }

  window.dashChart = { line: line, bars: bars };
})();
