// The new-chat notice on the call queue and chats pages: poll the waiting counts, and when a
// chat arrives (or one is transferred to this advocate) show the banner, put the count in
// the tab's title and play a short sound. Browsers allow sound only after the person has
// clicked or typed on the page; the mute choice is remembered in this browser.
(function () {
  "use strict";
  var notice = document.getElementById("chat-notice");
  if (!notice || !window.fetch) {
    return;
  }
  var banner = document.getElementById("chat-notice-banner");
  var text = document.getElementById("chat-notice-text");
  var mute = document.getElementById("chat-notice-mute");
  var MUTED_KEY = "crm.chatNotice.muted";
  var baseTitle = document.title.replace(/^\(\d+\) /, "");
  var newestId = parseInt(notice.getAttribute("data-newest-id"), 10) || 0;
  var held = parseInt(notice.getAttribute("data-held"), 10) || 0;
  var seconds = parseFloat(notice.getAttribute("data-poll-seconds")) || 5;
  var audio = null;

  function muted() {
    try {
      return window.localStorage.getItem(MUTED_KEY) === "1";
    } catch (error) {
      return false;
    }
  }

  function showMute() {
    var off = muted();
    mute.setAttribute("aria-pressed", off ? "true" : "false");
    mute.textContent = off ? "Turn the new-chat sound back on" : "Mute the new-chat sound";
  }

  mute.addEventListener("click", function () {
    try {
      window.localStorage.setItem(MUTED_KEY, muted() ? "0" : "1");
    } catch (error) {
      // Private mode without storage: the choice lasts for this page only.
    }
    showMute();
  });
  document.getElementById("chat-notice-sound").hidden = false;
  showMute();

  // An AudioContext may only start from a click or key press on the page.
  function unlockAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) {
      audio = new Context();
    }
    if (audio && audio.state === "suspended") {
      audio.resume();
    }
  }
  document.addEventListener("pointerdown", unlockAudio, true);
  document.addEventListener("keydown", unlockAudio, true);

  function beep() {
    if (muted() || !audio || audio.state !== "running") {
      return;
    }
    var start = audio.currentTime;
    [0, 0.18].forEach(function (offset) {
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.2, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.14);
      tone.connect(gain).connect(audio.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.15);
    });
    notice.setAttribute("data-sounded", String((parseInt(notice.getAttribute("data-sounded"), 10) || 0) + 1));
  }

  function waitingText(counts) {
    var words = counts.waiting === 1 ? "1 visitor is waiting to chat" : counts.waiting + " visitors are waiting to chat";
    var minutes = Math.floor((counts.oldest_wait_seconds || 0) / 60);
    if (minutes >= 1) {
      words += ", the longest for " + minutes + (minutes === 1 ? " minute" : " minutes");
    }
    return words + ".";
  }

  function show(counts) {
    var arrived = (counts.newest_waiting_id || 0) > newestId;
    var passed = counts.held > held;
    var lines = [];
    if (counts.waiting > 0) {
      lines.push(waitingText(counts));
    }
    if (passed) {
      lines.push("A chat was transferred to you.");
    }
    if (lines.length) {
      text.textContent = lines.join(" ");
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
    document.title = counts.waiting > 0 ? "(" + counts.waiting + ") " + baseTitle : baseTitle;
    if (arrived || passed) {
      beep();
    }
    newestId = Math.max(newestId, counts.newest_waiting_id || 0);
    held = counts.held;
  }

  var timer = window.setInterval(function () {
    fetch(notice.getAttribute("data-source"), {
      credentials: "same-origin",
      // Not activity: an open tab alone must not keep the session alive.
      headers: { Accept: "application/json", "X-Background-Poll": "1" },
    })
      .then(function (response) {
        // 401: the session ended (the server answers a poll so, leaving its "your session
        // ended" for the page the person opens next); 403: no longer allowed.
        if (response.status === 401 || response.status === 403 || response.redirected) {
          // Signed out (the session ended): stop asking; the page says so on its next load.
          window.clearInterval(timer);
          notice.setAttribute("data-stale", "true");
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (counts) {
        if (counts) {
          show(counts);
        }
      })
      .catch(function () {
        // A network blip or a restart: the next poll tries again.
      });
  }, seconds * 1000);
})();
