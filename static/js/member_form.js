// Show the fields of a category only while the member is in it. Without script every
// section stays visible, and the server clears the fields of unticked categories anyway.
(function () {
  "use strict";
  var boxes = document.querySelectorAll('input[name="categories"]');
  var sections = document.querySelectorAll(".category-section");
  function update() {
    var ticked = {};
    boxes.forEach(function (box) { if (box.checked) { ticked[box.value] = true; } });
    sections.forEach(function (section) {
      var slugs = section.getAttribute("data-categories").split(" ");
      section.hidden = !slugs.some(function (slug) { return ticked[slug]; });
    });
  }
  boxes.forEach(function (box) { box.addEventListener("change", update); });
  update();
})();
