// The member page lists registration and changes; the activities app's timeline of the same
// member adds activities, visits and needs. Fetch it and put it in the list's place; if it
// cannot be had, the page keeps what it has.
(function () {
  "use strict";
  var list = document.querySelector("ol[data-timeline]");
  if (!list) return;
  fetch(list.dataset.timeline, { credentials: "same-origin", headers: { Accept: "text/html" } })
    .then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.text();
    })
    .then(function (html) {
      var fetched = new DOMParser().parseFromString(html, "text/html").querySelector("ol.timeline");
      if (fetched) list.replaceWith(document.importNode(fetched, true));
    })
    .catch(function () {});
})();
