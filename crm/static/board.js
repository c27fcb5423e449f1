// The live board: swap in a fresh copy of the board every few seconds, while the tab is seen.
(function () {
  "use strict";
  var board = document.getElementById("live-board");
  if (!board || !window.fetch) {
    return;
  }
  var seconds = parseInt(board.getAttribute("data-refresh-seconds"), 10) || 5;
  var source = board.getAttribute("data-source");

  function refresh() {
    if (document.hidden) {
      return;
    }
    fetch(source, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        // Signed out or no longer allowed: stop rather than show a login page in the board.
        if (!response.ok || response.redirected) {
          throw new Error("board unavailable: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        board.innerHTML = html;
        board.removeAttribute("data-stale");
      })
      .catch(function () {
        board.setAttribute("data-stale", "true");
      });
  }

  window.setInterval(refresh, seconds * 1000);
})();
