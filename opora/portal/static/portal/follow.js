/* The request's private page. Without JavaScript the link is plain selectable text and every time
   is in the service's zone; with it:
   - a button shares the private link (the phone's share sheet where there is one) or copies it,
     and says so in a live region;
   - where the browser's clock is in another zone, the booked time is also shown in the browser's. */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function hhmm(date) { return pad(date.getHours()) + ":" + pad(date.getMinutes()); }

  function showBrowserTime() {
    var el = document.getElementById("browser-time");
    if (!el) return;
    var start = new Date(el.getAttribute("data-starts"));
    var end = new Date(el.getAttribute("data-ends"));
    if (isNaN(start.getTime()) || isNaN(end.getTime())) return;
    // The service's offset is in the ISO string ("…+03:00"); the browser's from the Date.
    var m = /([+-])(\d\d):(\d\d)$/.exec(el.getAttribute("data-starts"));
    if (!m) return;
    var serviceOffset = (m[1] === "-" ? -1 : 1) * (parseInt(m[2], 10) * 60 + parseInt(m[3], 10));
    var browserOffset = -start.getTimezoneOffset();
    if (serviceOffset === browserOffset) return;
    var h = Math.floor(Math.abs(browserOffset) / 60), mm = Math.abs(browserOffset) % 60;
    var utc = "UTC" + (browserOffset < 0 ? "−" : "+") + h + (mm ? ":" + pad(mm) : "");
    el.textContent = "(" + hhmm(start) + "–" + hhmm(end) + " " + el.getAttribute("data-label") +
      ", " + utc + ")";
    el.hidden = false;
  }

  function say(status, key) {
    status.textContent = "";
    // A fresh text node each time, so the live region is read out again on a second tap.
    window.setTimeout(function () { status.textContent = status.getAttribute(key); }, 50);
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy")); }
    });
  }

  function setUpShare() {
    var button = document.getElementById("share-link");
    var status = document.getElementById("share-status");
    if (!button || !status) return;
    var url = button.getAttribute("data-url");
    var canShare = typeof navigator.share === "function";
    if (canShare) button.textContent = button.getAttribute("data-share");
    button.hidden = false;
    button.addEventListener("click", function () {
      if (canShare) {
        navigator.share({ title: button.getAttribute("data-title"), url: url }).catch(function (err) {
          if (err && err.name === "AbortError") return;
          copy(url).then(function () { say(status, "data-copied"); },
                         function () { say(status, "data-failed"); });
        });
        return;
      }
      copy(url).then(function () { say(status, "data-copied"); },
                     function () { say(status, "data-failed"); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    showBrowserTime();
    setUpShare();
  });
})();
