// A chat page made live. On each "new message" from the page's event stream, fetch only the
// lines after the last id the page has (the server draws them with the page's own template,
// every typed string escaped by Jinja), parse them with DOMParser and append each line the page
// does not have yet: a reconnect, a repeated notice or two fetches at once never show a line
// twice. "typing" events show the other side typing for a few seconds; while the chat waits,
// the fragment is fetched now and then for the fresh estimate. Without JavaScript the page works
// as plain forms; in the embed (no session cookie) every request carries the chat's token.

// The embed only: no session cookie reaches a third-party frame, so the frame keeps the chat's
// token in its own sessionStorage (per tab, partitioned by the top site, never sent by itself)
// to resume the chat after a reload: the pre-chat page posts it back at once, if it has one.
(function () {
  "use strict";
  var key = "crm-chat-token";
  var storage;
  try {
    storage = window.sessionStorage;
  } catch (error) {
    return;
  }
  if (!storage) {
    return;
  }
  var resume = document.getElementById("chat-resume");
  var tokenField = document.querySelector("#chat-form input[name='chat_token']");
  if (resume) {
    var token = storage.getItem(key);
    if (token) {
      resume.querySelector("input[name='chat_token']").value = token;
      resume.submit();
    }
  } else if (tokenField) {
    storage.setItem(key, tokenField.value);
  } else if (document.getElementById("chat-start")) {
    // The chat ended, or is gone: the next visit starts afresh.
    storage.removeItem(key);
  }
})();

(function () {
  "use strict";
  var lines = document.getElementById("chat-lines");
  var source = lines && lines.getAttribute("data-stream");
  if (!source || !window.EventSource || !window.fetch || !window.DOMParser || !window.FormData) {
    return;
  }
  var fragmentUrl = lines.getAttribute("data-lines");
  var typingUrl = lines.getAttribute("data-typing");
  var me = lines.getAttribute("data-me");
  var form = document.getElementById(lines.getAttribute("data-form"));
  var typingBox = document.getElementById("chat-typing");
  var refresh = document.getElementById("chat-refresh");
  var typingEvery = seconds("data-typing-seconds", 3);
  var typingShown = seconds("data-typing-shown-seconds", 6);
  var refreshEvery = seconds("data-refresh-seconds", 20);
  if (refresh) {
    refresh.hidden = true;
  }
  var events = null;
  var fetching = false;
  var again = false;
  var ended = false;
  // A form of this page on its way (Close, Send, Transfer): its answer is the next page.
  var leaving = false;
  document.addEventListener("submit", function (event) {
    leaving = !event.defaultPrevented;
  });
  var typingTimer = null;
  var lastTypingSent = 0;

  function seconds(name, fallback) {
    return (parseFloat(lines.getAttribute(name)) || fallback) * 1000;
  }

  function lastId() {
    return parseInt(lines.getAttribute("data-last-id"), 10) || 0;
  }

  // The chat's token (embed) or the CSRF token (pages with a session), as the page's form has them.
  function formField(name) {
    var input = form && form.querySelector("input[name='" + name + "']");
    return input ? input.value : null;
  }

  function request(url, fields) {
    var token = formField("chat_token");
    if (!token && !fields) {
      return fetch(url + "?after=" + lastId(), {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
    }
    var body = new FormData();
    body.append(token ? "chat_token" : "csrf_token", token || formField("csrf_token") || "");
    Object.keys(fields || { after: 0 }).forEach(function (key) {
      body.append(key, key === "after" ? lastId() : fields[key]);
    });
    return fetch(url, { method: "POST", body: body, credentials: "same-origin" });
  }

  function showNewLines() {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    request(fragmentUrl, formField("chat_token") ? { after: 0 } : null)
      .then(function (response) {
        if (!response.ok || response.redirected || response.status === 204) {
          throw new Error("chat unavailable: " + response.status);
        }
        return response.text();
      })
      .then(apply)
      .catch(function () {
        if (refresh) {
          refresh.hidden = false;
        }
      })
      .then(function () {
        fetching = false;
        if (again && !ended) {
          again = false;
          showNewLines();
        }
      });
  }

  function apply(html) {
    var update = new DOMParser().parseFromString(html, "text/html").getElementById("chat-update");
    if (!update) {
      throw new Error("not a chat update");
    }
    if (refresh) {
      refresh.hidden = true;
    }
    if (update.getAttribute("data-ended") === "true") {
      // The chat ended: show the page as it is now (no reply form, the new-chat button).
      ended = true;
      events.close();
      if (leaving) {
        // The person's own Close ended it: showing the page again would replace the answer
        // to their form (the list, with "The chat is closed.") with the ended chat.
        return;
      }
      if (refresh) {
        refresh.submit();
      } else {
        window.location.reload();
      }
      return;
    }
    var fresh = update.querySelectorAll("li[data-message-id]");
    for (var i = 0; i < fresh.length; i += 1) {
      var id = parseInt(fresh[i].getAttribute("data-message-id"), 10);
      if (id > lastId() && !document.getElementById("m" + id)) {
        lines.appendChild(document.importNode(fresh[i], true));
        lines.setAttribute("data-last-id", String(id));
        if (fresh[i].getAttribute("data-sender") !== me) {
          hideTyping();
        }
        lines.lastElementChild.scrollIntoView({ block: "nearest" });
      }
    }
    replaceFrom(update, "chat-status");
    var freshTyping = update.querySelector("#chat-typing");
    if (typingBox && freshTyping) {
      typingBox.setAttribute("data-text", freshTyping.getAttribute("data-text") || "");
    }
  }

  function replaceFrom(update, id) {
    var current = document.getElementById(id);
    var fresh = update.querySelector("#" + id);
    if (current && fresh) {
      current.replaceWith(document.importNode(fresh, true));
    }
  }

  function showTyping() {
    var text = typingBox && typingBox.getAttribute("data-text");
    if (!text) {
      return;
    }
    typingBox.textContent = text;
    typingBox.hidden = false;
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(hideTyping, typingShown);
  }

  function hideTyping() {
    window.clearTimeout(typingTimer);
    if (typingBox) {
      typingBox.hidden = true;
    }
  }

  // At most one "typing" every few seconds, only while the person types, and not while the
  // chat waits for an advocate (nobody would see it).
  function sayTyping() {
    var now = Date.now();
    var status = document.getElementById("chat-status");
    var waiting = status && status.getAttribute("data-status") !== "active";
    if (!typingUrl || waiting || now - lastTypingSent < typingEvery) {
      return;
    }
    lastTypingSent = now;
    request(typingUrl, {}).catch(function () {});
  }

  function listen() {
    // The browser reconnects by itself when the stream ends, sending the last id it saw; when
    // it gives up (the server said no, or the network is gone), start again from the page's id.
    events = new EventSource(source + (source.indexOf("?") < 0 ? "?" : "&") + "after=" + lastId());
    events.onmessage = showNewLines;
    events.addEventListener("typing", showTyping);
    events.onopen = showNewLines;
    events.onerror = function () {
      if (events.readyState === EventSource.CLOSED && !ended) {
        window.setTimeout(listen, 2000);
      }
    };
  }

  var box = form && form.querySelector("textarea");
  if (box) {
    box.addEventListener("input", sayTyping);
  }
  window.addEventListener("online", showNewLines);
  window.setInterval(function () {
    var status = document.getElementById("chat-status");
    if (!ended && status && status.getAttribute("data-status") === "waiting") {
      showNewLines();
    }
  }, refreshEvery);
  listen();
})();
