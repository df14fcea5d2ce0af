// Device check: camera preview, microphone level, a test beep; plain advice when something is blocked.
(() => {
  "use strict";
  const text = JSON.parse(document.getElementById("check-text").textContent);
  const status = document.getElementById("check-status");
  const meter = document.getElementById("mic-level");
  let audioCtx = null;

  function ctx() {
    audioCtx = audioCtx || new (window.AudioContext || window.webkitAudioContext)();
    return audioCtx;
  }

  async function start() {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      document.getElementById("preview").srcObject = stream;
      const analyser = ctx().createAnalyser();
      analyser.fftSize = 512;
      ctx().createMediaStreamSource(stream).connect(analyser);
      const data = new Uint8Array(analyser.fftSize);
      const tick = () => {
        analyser.getByteTimeDomainData(data);
        let peak = 0;
        for (const v of data) peak = Math.max(peak, Math.abs(v - 128) / 128);
        meter.value = peak;
        meter.textContent = peak.toFixed(2);
        requestAnimationFrame(tick);
      };
      tick();
      status.textContent = text.ok;
      window.oporaCheck = { stream, ok: true };
    } catch (err) {
      status.textContent = text.blocked;
      document.getElementById("check-advice").hidden = false;
      window.oporaCheck = { ok: false, error: err && err.name };
    }
  }

  document.getElementById("speaker-test").addEventListener("click", () => {
    const osc = ctx().createOscillator();
    osc.frequency.value = 660;
    osc.connect(ctx().destination);
    osc.start();
    osc.stop(ctx().currentTime + 0.4);
  });

  // Connection speed: time a download of 1 MB and an upload of 512 KB from the service itself.
  // Video needs about 1 Mbit/s both ways; below that, voice or the chat is advised.
  async function measureSpeed() {
    const out = document.getElementById("speed-result");
    out.textContent = text.measuring;
    const mbit = (bytes, ms) => (bytes * 8) / (Math.max(ms, 1) / 1000) / 1e6;
    try {
      let t = performance.now();
      const r = await fetch(`${text.speedUrl}?bytes=1048576`, { cache: "no-store", credentials: "same-origin" });
      if (!r.ok) throw new Error(String(r.status));
      const got = (await r.arrayBuffer()).byteLength;
      const down = mbit(got, performance.now() - t);
      const body = new Uint8Array(524288);
      for (let i = 0; i < body.length; i += 65536) crypto.getRandomValues(body.subarray(i, i + 65536));
      t = performance.now();
      const u = await fetch(text.speedUrl, { method: "POST", body, credentials: "same-origin",
        headers: { "X-CSRFToken": text.csrfToken, "Content-Type": "application/octet-stream" } });
      if (!u.ok) throw new Error(String(u.status));
      await u.json();
      const up = mbit(body.length, performance.now() - t);
      const fmt = (v) => (v >= 100 ? ">100" : v.toFixed(1));
      const ok = Math.min(down, up) >= text.minMbit;
      out.textContent = `${text.speed.replace("%(down)s", fmt(down)).replace("%(up)s", fmt(up))} ${ok ? text.videoOk : text.voiceOnly}`;
      out.dataset.verdict = ok ? "video" : "voice";
      window.oporaSpeed = { down, up, ok };
    } catch (err) {
      out.textContent = text.speedFailed;
      out.dataset.verdict = "unknown";
      window.oporaSpeed = { ok: null };
    }
  }
  measureSpeed();

  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    start();
  } else {
    status.textContent = text.blocked;
    document.getElementById("check-advice").hidden = false;
  }
})();
