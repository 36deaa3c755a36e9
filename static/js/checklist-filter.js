// A long list of checkboxes (an activity's partner organisations) with a box that keeps in
// view only the names containing what is typed. Ticked ones always stay in view. Without the
// script the list simply scrolls.
(function () {
  "use strict";
  // Below this many, the list fits on a phone's screen and needs no filter.
  var FEW = 8;
  document.querySelectorAll(".checklist-filter").forEach(function (filter) {
    var list = document.getElementById(filter.dataset.filterFor);
    if (!list) return;
    var rows = Array.prototype.slice.call(list.children);
    if (rows.length <= FEW) return;
    filter.hidden = false;
    filter.addEventListener("input", function () {
      var text = filter.value.trim();
      rows.forEach(function (row) {
        var box = row.querySelector("input");
        row.hidden = text !== "" && !(box && box.checked) && row.textContent.indexOf(text) === -1;
      });
    });
  });
})();
