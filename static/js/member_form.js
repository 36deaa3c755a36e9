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

// The number's label names the chosen document, and the passport's country shows only for a
// passport. Without script both stay visible and the server says what is missing.
(function () {
  "use strict";
  var select = document.querySelector('select[name="document_type"]');
  var number = document.querySelector('label[for="id_id_number"]');
  var country = document.querySelector('select[name="document_country"]');
  if (!select || !number) { return; }
  var labels = JSON.parse(select.getAttribute("data-number-labels") || "{}");
  var text = number.firstChild;
  var countryField = country ? country.closest(".field") : null;
  function update() {
    if (labels[select.value] && text && text.nodeType === Node.TEXT_NODE) {
      text.nodeValue = labels[select.value];
    }
    if (countryField) {
      countryField.hidden = select.value !== country.getAttribute("data-shown-for");
    }
  }
  select.addEventListener("change", update);
  update();
})();
