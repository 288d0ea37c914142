// The what-if simulator: htmx swaps the answer region in place. A question
// the server refuses answers the region with what was wrong and an error
// status; htmx swaps it in like any other answer.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.getResponseHeader("X-Bcdr-Whatif") === "1") {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
})();
