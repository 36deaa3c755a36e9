// The evaluation template editor: buttons that add an item row under a category, or a new
// category with empty item rows. Without script the page carries empty rows of its own, and
// saving brings new ones; these buttons stay hidden then.
(function () {
  "use strict";
  var form = document.querySelector("form.template-form");
  if (!form) { return; }

  function renumber(root, pattern, replacement) {
    root.querySelectorAll("[name], [id], label[for]").forEach(function (element) {
      ["name", "id", "for"].forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value) { element.setAttribute(attribute, value.replace(pattern, replacement)); }
      });
    });
  }

  function blank(row) {
    row.classList.remove("invalid");
    row.querySelectorAll(".error").forEach(function (error) { error.remove(); });
    row.querySelectorAll(".field.invalid").forEach(function (field) {
      field.classList.remove("invalid");
    });
    row.querySelectorAll("input").forEach(function (input) {
      if (input.type === "checkbox") { input.checked = false; } else { input.value = ""; }
    });
  }

  function wire(category) {
    var button = category.querySelector(".add-item");
    var prefix = category.getAttribute("data-prefix") + "-i";
    var total = category.querySelector("[name='" + prefix + "-TOTAL_FORMS']");
    var items = category.querySelector(".items");
    button.hidden = false;
    button.addEventListener("click", function () {
      var last = items.querySelector(".item-row:last-child");
      if (!last || !total) { return; }
      var row = last.cloneNode(true);
      var index = parseInt(total.value, 10);
      renumber(row, new RegExp(prefix + "-\\d+-"), prefix + "-" + index + "-");
      blank(row);
      items.appendChild(row);
      total.value = index + 1;
      row.querySelector("input[type=text]").focus();
    });
  }

  form.querySelectorAll(".categories .template-category").forEach(wire);

  var addCategory = form.querySelector(".add-category");
  var empty = document.getElementById("empty-category");
  var categories = form.querySelector(".categories");
  var total = form.querySelector("[name='c-TOTAL_FORMS']");
  if (addCategory && empty && categories && total) {
    addCategory.hidden = false;
    addCategory.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var holder = document.createElement("div");
      holder.innerHTML = empty.innerHTML.replace(/__prefix__/g, String(index));
      var category = holder.firstElementChild;
      categories.appendChild(category);
      total.value = index + 1;
      wire(category);
      category.querySelector("input[type=text]").focus();
    });
  }
})();
