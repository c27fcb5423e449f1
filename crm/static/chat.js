// A chat page made live: on each "new message" from the page's event stream, fetch the
// page again and swap in its messages. Without JavaScript the page works as plain forms.
(function () {
  "use strict";
  var lines = document.getElementById("chat-lines");
  var source = lines && lines.getAttribute("data-stream");
  if (!source || !window.EventSource || !window.fetch || !window.DOMParser) {
    return;
  }
  var refresh = document.getElementById("chat-refresh");
  if (refresh) {
    refresh.hidden = true;
  }
  var events;
  var fetching = false;
  var again = false;

  function showNewMessages() {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    // X-Chat-Refresh: the page's own refresh leaves any message the server has for the
    // person (a flash) for the page they see next, instead of taking it into this fetch.
    fetch(window.location.pathname, {
      credentials: "same-origin",
      headers: { Accept: "text/html", "X-Chat-Refresh": "1" },
    })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("chat unavailable: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("chat-lines");
        if (!fresh || !fresh.getAttribute("data-stream")) {
          // The chat ended: show the page as it is now (no reply form, the new-chat button).
          events.close();
          window.location.reload();
          return;
        }
        {
          lines.innerHTML = fresh.innerHTML;
          lines.setAttribute("data-last-id", fresh.getAttribute("data-last-id") || "0");
          lines.lastElementChild && lines.lastElementChild.scrollIntoView({ block: "nearest" });
        }
      })
      .catch(function () {
        if (refresh) {
          refresh.hidden = false;
        }
      })
      .then(function () {
        fetching = false;
        if (again) {
          again = false;
          showNewMessages();
        }
      });
  }

  // The browser reconnects by itself when the stream ends, sending the last id it saw.
  events = new EventSource(source + "?after=" + (lines.getAttribute("data-last-id") || "0"));
  events.onmessage = showNewMessages;
})();
