// Filters the records table in place: every control narrows the rows; nothing is fetched.
(function () {
  "use strict";
  var table = document.getElementById("records");
  if (!table) { return; }
  var controls = Array.prototype.slice.call(document.querySelectorAll("[data-filter]"));
  var search = document.getElementById("search");
  var shown = document.getElementById("shown");
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
  function hasWord(list, word) { return (" " + (list || "") + " ").indexOf(" " + word + " ") >= 0; }
  function apply() {
    var query = (search.value || "").trim().toLowerCase();
    var n = 0;
    rows.forEach(function (tr) {
      var ok = controls.every(function (c) {
        var v = c.value, key = c.getAttribute("data-filter");
        if (!v) { return true; }
        if (key === "levels" || key === "reasons") { return hasWord(tr.getAttribute("data-" + key), v); }
        return tr.getAttribute("data-" + key) === v;
      });
      if (ok && query) { ok = (tr.getAttribute("data-text") || "").indexOf(query) >= 0; }
      tr.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = String(n);
  }
  controls.forEach(function (c) { c.addEventListener("change", apply); });
  search.addEventListener("input", apply);
  apply();
})();
