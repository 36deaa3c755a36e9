// The participant picker: the chosen members as a list with remove buttons, and a search
// box that asks the server for members of the user's area by name. The <select multiple>
// stays the form's field (hidden once this runs), so the form posts as without the script.
(function () {
  "use strict";
  document.querySelectorAll(".participants-picker").forEach(function (picker) {
    var select = picker.querySelector("select");
    var chosen = picker.querySelector(".chosen");
    var search = picker.querySelector(".picker-search");
    var results = picker.querySelector(".picker-results");
    var url = picker.dataset.searchUrl;
    var timer = null;

    select.hidden = true;
    search.hidden = false;

    function render() {
      chosen.textContent = "";
      Array.prototype.forEach.call(select.options, function (option) {
        var item = document.createElement("li");
        item.className = "tag";
        item.textContent = option.textContent + " ";
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link";
        remove.textContent = "×";
        remove.setAttribute("aria-label", option.textContent);
        remove.addEventListener("click", function () {
          option.remove();
          render();
        });
        item.appendChild(remove);
        chosen.appendChild(item);
      });
    }

    function include(member) {
      var exists = Array.prototype.some.call(select.options, function (option) {
        return option.value === String(member.id);
      });
      if (!exists) {
        var option = new Option(member.label, member.id, true, true);
        select.add(option);
      }
      return !exists;
    }

    function add(member) {
      include(member);
      render();
      results.textContent = "";
      search.value = "";
      search.focus();
    }

    function lookup() {
      var text = search.value.trim();
      results.textContent = "";
      if (!text) return;
      var address = url + "?q=" + encodeURIComponent(text);
      var field = picker.dataset.communityField;
      var community = field && select.form ? select.form.elements[field] : null;
      if (community && community.value) {
        address += "&community=" + encodeURIComponent(community.value);
      }
      fetch(address, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          results.textContent = "";
          data.results.forEach(function (member) {
            var item = document.createElement("li");
            var button = document.createElement("button");
            button.type = "button";
            button.className = "picker-result";
            // Name first, then what tells two people of that name apart.
            var name = document.createElement("strong");
            name.textContent = member.name;
            var details = document.createElement("small");
            details.className = "muted";
            details.textContent = member.label.slice(member.name.length);
            button.appendChild(name);
            button.appendChild(details);
            button.addEventListener("click", function () { add(member); });
            item.appendChild(button);
            results.appendChild(item);
          });
        });
    }

    search.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookup, 250);
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();  // Enter picks the first result, never submits the form
        var first = results.querySelector("button");
        if (first) first.click();
      }
    });
    // Several at once: the members of a category, a grid or an earlier activity.
    var bulk = picker.querySelector(".picker-bulk");
    if (bulk && picker.dataset.bulkUrl) {
      var message = bulk.querySelector(".picker-bulk-message");
      bulk.hidden = false;
      bulk.querySelectorAll(".picker-bulk-row").forEach(function (row) {
        var choice = row.querySelector("select");
        var button = row.querySelector("button");
        button.addEventListener("click", function () {
          if (!choice.value) return;
          var address = picker.dataset.bulkUrl + "?" + choice.dataset.bulk + "=" +
            encodeURIComponent(choice.value);
          button.disabled = true;
          fetch(address, { credentials: "same-origin" })
            .then(function (response) { return response.json(); })
            .then(function (data) {
              var added = 0;
              data.results.forEach(function (member) { if (include(member)) added += 1; });
              render();
              var text = (bulk.dataset.addedText || "") + added;
              message.textContent = data.message ? text + " " + data.message : text;
            })
            .finally(function () { button.disabled = false; });
        });
      });
    }
    render();
  });
})();
