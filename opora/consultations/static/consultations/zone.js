// The consultation's time is shown in the service's zone; when this device's clock is in another
// zone, the same time is added by the device's clock, labelled (the service's time stays first).
(() => {
  "use strict";
  for (const el of document.querySelectorAll("[data-your-time]")) {
    const starts = new Date(el.dataset.starts);
    const ends = new Date(el.dataset.ends);
    if (Number.isNaN(starts.getTime()) || -starts.getTimezoneOffset() === Number(el.dataset.serviceOffset)) continue;
    const lang = document.documentElement.lang || undefined;
    const time = (d) => d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", hour12: false });
    const day = starts.toLocaleDateString(lang, { day: "numeric", month: "long" });
    el.textContent = el.dataset.text.replace("%(time)s", `${day}, ${time(starts)}–${time(ends)}`);
    el.hidden = false;
  }
})();
