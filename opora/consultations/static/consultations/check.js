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

  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    start();
  } else {
    status.textContent = text.blocked;
    document.getElementById("check-advice").hidden = false;
  }
})();
