/* The list of the latest events on the live page (/dashboard/live/): shows what live.js and replay.js dispatch. */
(function () {
  "use strict";
  var list = document.getElementById("live-events");
  if (!list) { return; }
  var empty = list.querySelector(".live-empty");

  function add(e) {
    var d = e.detail;
    if (empty && empty.parentNode) { empty.parentNode.removeChild(empty); }
    var li = document.createElement("li");
    li.className = "live-event live-" + d.type + (d.replay ? " live-replayed" : "");
    li.setAttribute("data-code", d.code);
    var at = new Date(d.at);
    var time = document.createElement("time");
    time.dateTime = d.at;
    time.textContent = at.toLocaleTimeString();
    var kind = document.createElement("span");
    kind.className = "live-kind";
    kind.textContent = list.getAttribute("data-label-" + d.type) + (d.replay ? " · " + list.getAttribute("data-label-replayed") : "");
    var link = document.createElement("a");
    link.href = d.url;
    link.textContent = d.code;
    var what = document.createElement("span");
    what.textContent = " " + (d.label || "") + " · " + d.state_label;
    li.appendChild(time);
    li.appendChild(kind);
    li.appendChild(link);
    li.appendChild(what);
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 200) { list.removeChild(list.lastChild); }
  }

  ["case", "alarm", "state"].forEach(function (type) { document.addEventListener("cityops:" + type, add); });
  document.addEventListener("cityops:replay-start", function () {
    Array.prototype.slice.call(list.querySelectorAll(".live-replayed")).forEach(function (li) { li.remove(); });
  });
  document.addEventListener("cityops:replay-end", function () {
    Array.prototype.slice.call(list.querySelectorAll(".live-replayed")).forEach(function (li) { li.remove(); });
  });
}());
