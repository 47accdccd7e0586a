// Every page (base.html): the header's menu button on narrow screens, and the column names that list tables
// show on phones, where each row is a card (cityops.css). Loaded in <head> without defer: the "js" class is set
// before the first paint, so the folded menu never flashes open.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Each cell of a table.list without a data-label gets its column's name from the table head.
  function labelCells(root) {
    var tables = root.querySelectorAll ? root.querySelectorAll("table.list") : [];
    if (root.matches && root.matches("table.list")) tables = [root];
    Array.prototype.forEach.call(tables, function (table) {
      var head = table.tHead && table.tHead.rows[0];
      if (!head) return;
      var names = [];
      Array.prototype.forEach.call(head.cells, function (th) {
        for (var i = 0; i < (th.colSpan || 1); i++) names.push(th.textContent.trim());
      });
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var col = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            if (!cell.hasAttribute("data-label") && cell.colSpan === 1) cell.setAttribute("data-label", names[col] || "");
            col += cell.colSpan || 1;
          });
        });
      });
    });
  }

  function closeMenu(bar) {
    bar.classList.remove("open");
    var button = bar.querySelector(".menu-toggle");
    if (button) button.setAttribute("aria-expanded", "false");
  }

  document.addEventListener("DOMContentLoaded", function () {
    labelCells(document);
    var bar = document.querySelector(".topbar");
    var button = bar && bar.querySelector(".menu-toggle");
    if (!button) return;
    button.addEventListener("click", function () {
      var open = bar.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && bar.classList.contains("open")) { closeMenu(bar); button.focus(); }
    });
    document.addEventListener("click", function (e) {
      if (bar.classList.contains("open") && !bar.contains(e.target)) closeMenu(bar);
    });
  });
  // Rows that htmx swaps in (a case row after an action) get their labels too.
  document.addEventListener("htmx:afterSettle", function (e) {
    var target = e.detail && e.detail.elt;
    if (!target) return;
    var table = target.closest ? target.closest("table.list") : null;
    labelCells(table || target);
  });
})();
