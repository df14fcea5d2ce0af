// The consultant's preparation (regulation 002 §4.2): camera and microphone through getUserMedia,
// the network by timing round trips and a download from the service; the form stores the result.
(() => {
  "use strict";
  const config = JSON.parse(document.getElementById("prep-config").textContent);
  const text = config.text;
  const save = document.getElementById("prep-save");
  let pending = 3;

  function done() {
    pending -= 1;
    if (pending === 0) {
      save.disabled = false;
      document.getElementById("prep-status").textContent = "";
    }
  }

  function show(id, ok, label) {
    const out = document.getElementById(`${id}-result`);
    out.textContent = label || (ok ? text.ok : text.failed);
    out.dataset.ok = ok ? "yes" : "no";
  }

  async function device(kind, id, hidden) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(kind === "video" ? { video: true } : { audio: true });
      const tracks = kind === "video" ? stream.getVideoTracks() : stream.getAudioTracks();
      const ok = tracks.length > 0 && tracks[0].readyState === "live";
      if (kind === "video" && ok) document.getElementById("prep-preview").srcObject = stream;
      else stream.getTracks().forEach((t) => t.stop());
      document.getElementById(hidden).value = ok ? "1" : "0";
      show(id, ok);
    } catch (err) {
      show(id, false);
    }
    done();
  }

  async function network() {
    const url = config.probeUrl;
    try {
      const rtts = [];
      for (let i = 0; i < 5; i += 1) {
        const t = performance.now();
        const r = await fetch(`${url}?bytes=0`, { cache: "no-store", credentials: "same-origin" });
        if (!r.ok) throw new Error(String(r.status));
        await r.arrayBuffer();
        rtts.push(performance.now() - t);
      }
      rtts.sort((a, b) => a - b);
      const rtt = Math.round(rtts[Math.floor(rtts.length / 2)]);
      const t = performance.now();
      const r = await fetch(`${url}?bytes=524288`, { cache: "no-store", credentials: "same-origin" });
      if (!r.ok) throw new Error(String(r.status));
      const got = (await r.arrayBuffer()).byteLength;
      const mbit = (got * 8) / (Math.max(performance.now() - t, 1) / 1000) / 1e6;
      document.getElementById("rtt_ms").value = String(rtt);
      document.getElementById("download_mbit").value = mbit.toFixed(2);
      const ok = rtt <= config.maxRttMs && mbit >= config.minMbit;
      show("network", ok, text.network.replace("%(rtt)s", rtt).replace("%(mbit)s", mbit >= 100 ? ">100" : mbit.toFixed(1)));
    } catch (err) {
      show("network", false, text.networkFailed);
    }
    done();
  }

  document.getElementById("prep-status").textContent = text.measuring;
  device("video", "camera", "camera_ok");
  device("audio", "microphone", "microphone_ok");
  network();
})();
