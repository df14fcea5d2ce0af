/* Opora: small progressive enhancements on top of htmx. Every page works without this file. */
(function () {
  "use strict";
  // After htmx swaps new content in, move keyboard and screen-reader focus to the part that
  // needs attention (an error summary, the check result), marked with data-focus.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.querySelector) return;
    var el = target.querySelector("[data-focus]");
    if (el && target.id !== "client-results") {
      if (!el.hasAttribute("tabindex") && !/^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/.test(el.tagName)) {
        el.setAttribute("tabindex", "-1");
      }
      el.focus();
    }
  });
  // On a full page load, focus the first error summary or booking conflict notice, if any.
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.querySelector(".error-summary[data-focus], .notice[data-focus]");
    if (el) el.focus();
  });
  // While a request runs, mark the region busy for assistive technology.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var t = event.detail && event.detail.target;
    if (t && t.setAttribute) t.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var t = event.detail && event.detail.target;
    if (t && t.removeAttribute) t.removeAttribute("aria-busy");
  });
  // A failed htmx request (network, server) must not fail silently; input the server refused
  // (400 from the input boundary) says what was wrong, in the X-Opora-Message header.
  function failed(event) {
    var live = document.getElementById("live");
    if (!live) return;
    var xhr = event && event.detail && event.detail.xhr;
    var said = xhr && xhr.status === 400 && xhr.getResponseHeader("X-Opora-Message");
    live.textContent = said ? decodeURIComponent(said)
      : document.documentElement.getAttribute("data-error-text") || "Error";
  }
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);
})();
