// The import page while a roster is checked or imported: poll the job, move the bar, and
// reload the page when the job reaches a new state (the preview or the result).
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box) return;
  var bar = box.querySelector("progress");
  var text = document.getElementById("job-progress-text");
  var state = document.getElementById("job-state");
  var url = box.dataset.statusUrl;
  var initial = box.dataset.state;

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (job) {
        bar.value = job.percent;
        state.textContent = job.label;
        if (job.total && job.done >= job.total) {
          text.textContent = text.dataset.finishing;
        } else if (job.total) {
          text.textContent = text.dataset.rows
            .replace("{done}", job.done)
            .replace("{total}", job.total);
        }
        if (job.state !== initial) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 500);
})();
