/* Portal: after a full page load, move focus to what needs attention first (an error summary, a
   refusal, the "received" notice, a success message), so screen-reader users hear it at once.
   opora.js already handles error summaries; this covers the rest. The page works without it. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (document.activeElement && document.activeElement !== document.body) return;
    var el = document.querySelector("[data-focus]");
    if (el) el.focus();
  });
})();
