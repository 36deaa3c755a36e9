// The representative's file forms show only what the choice made needs: the duty record's
// outcome and amount for the kinds that have them (the outcome's options of that kind only),
// the arrangement's organisation for the bodies named by it. Without script every field
// stays visible and the server drops what a kind does not take.
(function () {
  "use strict";
  function fieldOf(element) { return element ? element.closest(".field") : null; }

  var kind = document.querySelector('select[name="kind"]');
  var outcome = document.querySelector('select[name="outcome"]');
  var amount = document.querySelector('input[name="amount"]');
  if (kind && outcome) {
    var outcomes = JSON.parse(outcome.getAttribute("data-kinds") || "{}");
    var amountKinds = amount ? (amount.getAttribute("data-kinds") || "").split(" ") : [];
    // Each outcome is one option, whichever kinds have it (待答复: proposals and reports);
    // only the chosen kind's are offered.
    var update = function () {
      var allowed = outcomes[kind.value] || [];
      fieldOf(outcome).hidden = allowed.length === 0;
      outcome.querySelectorAll("option").forEach(function (option) {
        var mine = !option.value || allowed.indexOf(option.value) >= 0;
        option.hidden = !mine;
        option.disabled = !mine;
      });
      if (allowed.indexOf(outcome.value) < 0) { outcome.value = ""; }
      if (amount) { fieldOf(amount).hidden = amountKinds.indexOf(kind.value) < 0; }
    };
    kind.addEventListener("change", update);
    update();
  }

  var body = document.querySelector('select[name="body"]');
  var organisation = document.querySelector('input[name="organisation"]');
  if (body && organisation) {
    var named = (organisation.getAttribute("data-named-bodies") || "").split(" ");
    var show = function () { fieldOf(organisation).hidden = named.indexOf(body.value) < 0 && !organisation.value; };
    body.addEventListener("change", show);
    show();
  }
})();
