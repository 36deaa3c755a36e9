// Show an indicator's fields for its kind (and the target fields for its rule) only. Without
// script every field stays visible, and the server drops what the kind does not use.
(function () {
  "use strict";
  var KINDS = {
    metric: ["measured"], activity_type: ["measured"], rule: ["measured"], tiers: ["measured"],
    base: ["measured"], rate: ["measured"], cap: ["measured"],
    scored_by: ["scored", "bonus", "deduction"]
  };
  var RULES = { tiers: ["tiers"], base: ["linear", "fixed"], rate: ["linear"] };
  var METRICS = { activity_type: ["activities", "people_served"] };

  function shortName(element) {
    return (element.name || "").replace(/^indicator-/, "");
  }

  document.querySelectorAll("form.indicator-form").forEach(function (form) {
    var inputs = {};
    Array.prototype.forEach.call(form.elements, function (element) {
      if (element.name) { inputs[shortName(element)] = element; }
    });
    if (!inputs.kind) { return; }

    function allowed(table, name, value) {
      return !table[name] || table[name].indexOf(value) !== -1;
    }

    function update() {
      var kind = inputs.kind.value;
      var rule = inputs.rule ? inputs.rule.value : "";
      var metric = inputs.metric ? inputs.metric.value : "";
      Object.keys(inputs).forEach(function (name) {
        var field = inputs[name].closest(".field");
        if (!field) { return; }
        var shown = kind === "" ? !KINDS[name] : allowed(KINDS, name, kind);
        if (shown && kind === "measured") {
          shown = (rule === "" ? !RULES[name] : allowed(RULES, name, rule)) &&
            (metric === "" ? !METRICS[name] : allowed(METRICS, name, metric));
        }
        field.hidden = !shown && !field.classList.contains("invalid");  // errors stay in view
      });
    }

    ["kind", "rule", "metric"].forEach(function (name) {
      if (inputs[name]) { inputs[name].addEventListener("change", update); }
    });
    update();
  });
})();
