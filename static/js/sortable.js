// Tables with class "sortable": a click on a column heading sorts the rows by that column
// (numbers by their data-value), a second click reverses. The heading says how it is sorted.
(function () {
  "use strict";
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headings = table.querySelectorAll("thead th");
    headings.forEach(function (heading, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (heading.firstChild) button.appendChild(heading.firstChild);
      heading.appendChild(button);
      button.addEventListener("click", function () {
        var descending = heading.getAttribute("aria-sort") !== "descending";
        headings.forEach(function (other) { other.removeAttribute("aria-sort"); });
        heading.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[column], y = b.cells[column];
          var order;
          if (x.hasAttribute("data-value")) {
            order = parseFloat(x.getAttribute("data-value")) - parseFloat(y.getAttribute("data-value"));
          } else {
            order = x.textContent.trim().localeCompare(y.textContent.trim(), "zh-Hans-CN");
          }
          return descending ? -order : order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
