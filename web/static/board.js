// The live board: an EventSource on the execution's event stream asks
// htmx to draw the board again whenever the execution changes. A board
// being written on (an action's form open or focused) is drawn again
// once the person is done with it, so that nothing typed is lost.
(function () {
  "use strict";

  function board() { return document.getElementById("board"); }

  function busy() {
    var b = board();
    if (!b) return false;
    var a = document.activeElement;
    return b.querySelector("details[open]") !== null ||
      (a !== null && b.contains(a) && a.matches("input, textarea, select"));
  }

  function start() {
    var live = document.getElementById("live");
    if (!live || !window.EventSource || !window.htmx) return;
    var pending = false;
    var refresh = function () {
      if (!board()) return;
      if (busy()) { pending = true; return; }
      pending = false;
      htmx.trigger(board(), "refresh");
    };
    var source = new EventSource(live.dataset.events);
    source.addEventListener("change", refresh);
    source.addEventListener("end", function () { source.close(); refresh(); });
    window.setInterval(function () { if (pending) refresh(); }, 1000);
  }

  // A refused action answers the board with the service's message and an
  // error status; htmx swaps it in like any other board.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.getResponseHeader("X-Bcdr-Board") === "1") {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
