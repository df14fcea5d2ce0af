/* The rooms' recorder: one for the 1:1 room (room.js) and an event's room (group_room.js).
 *
 * MediaRecorder over a canvas the room draws its picture on and the room's sound (every audio
 * track mixed with an AudioContext). Chunks (5 s) are uploaded in order, each retried until the
 * server has it (a chunk sent twice is stored once); a refusal (4xx: the policy, a closed
 * recording) stops the recorder and says why. The server checks every chunk
 * (opora/consultations/recording_store.py). The room gives what differs:
 *   create({ csrfToken, startUrl, chunkMs, width, height,
 *            draw(g),             — paint one frame on the canvas's 2D context
 *            audioTracks(),       — the audio tracks to mix at the start (more: rec.mixTrack)
 *            texts: { failed, unsupported },   — failed has "%(reason)s"
 *            note(text),          — a line for the recorder's user
 *            started(), stopped(), failed() })  — the room's own indicator and button
 * and gets back the recorder's state with start(), stop() and mixTrack(track). */
(function () {
  "use strict";

  const MIME_TYPES = ["video/webm;codecs=vp8,opus", "video/webm", "audio/webm"];

  function create(opts) {
    const rec = { on: false, recorder: null, id: null, chunkUrl: "", finishUrl: "", seq: 0,
      queue: [], uploading: null, ac: null, dest: null, mixed: new Set(), timer: null,
      failed: false };
    const hook = (name) => { if (opts[name]) opts[name](); };
    const post = (url, body, type) => fetch(url, { method: "POST", body, credentials: "same-origin",
      headers: Object.assign({ "X-CSRFToken": opts.csrfToken, Accept: "application/json" },
        type ? { "Content-Type": type } : {}) });

    function mixTrack(track) {
      if (!rec.on || !rec.ac || !track || track.kind !== "audio" || rec.mixed.has(track.id)) return;
      rec.mixed.add(track.id);
      rec.ac.createMediaStreamSource(new MediaStream([track])).connect(rec.dest);
    }

    function mime() {
      for (const t of MIME_TYPES) if (MediaRecorder.isTypeSupported(t)) return t;
      return "";
    }

    async function uploadLoop() {
      while (rec.queue.length) {
        const [seq, blob] = rec.queue[0];
        let delay = 1000;
        for (;;) {
          let r = null;
          try {
            r = await post(rec.chunkUrl.replace(/0\/$/, `${seq}/`), blob, "application/octet-stream");
          } catch (err) { r = null; }
          if (r && r.ok) break;
          if (r && r.status >= 400 && r.status < 500) {
            // Refused for good (the policy, a closed recording): stop and say why.
            const d = await r.json().catch(() => ({}));
            rec.failed = true;
            rec.queue.length = 0;
            stopRecorder();
            hook("failed");
            opts.note(opts.texts.failed.replace("%(reason)s", d.error || r.status));
            return;
          }
          await new Promise((res) => setTimeout(res, delay));
          delay = Math.min(delay * 2, 16000);
        }
        rec.queue.shift();
      }
    }

    function enqueue(seq, blob) {
      rec.queue.push([seq, blob]);
      if (!rec.uploading) rec.uploading = uploadLoop().finally(() => { rec.uploading = null; });
    }

    async function start() {
      if (rec.on) return;
      if (typeof MediaRecorder === "undefined") { opts.note(opts.texts.unsupported); return; }
      const type = mime();
      const fd = new FormData();
      fd.append("mime_type", type || "video/webm");
      let data = {};
      try {
        const r = await post(opts.startUrl, fd);
        data = await r.json();
        if (!r.ok || !data.ok) { opts.note(data.error || String(r.status)); return; }
      } catch (err) { opts.note(String(err.message || err)); return; }
      rec.id = data.id; rec.chunkUrl = data.chunkUrl; rec.finishUrl = data.finishUrl;
      rec.seq = 0; rec.failed = false; rec.on = true; rec.mixed = new Set();
      rec.ac = new (window.AudioContext || window.webkitAudioContext)();
      if (rec.ac.state === "suspended") rec.ac.resume().catch(() => {});
      rec.dest = rec.ac.createMediaStreamDestination();
      for (const t of opts.audioTracks()) mixTrack(t);
      const canvas = document.createElement("canvas");
      canvas.width = opts.width; canvas.height = opts.height;
      const g = canvas.getContext("2d");
      rec.timer = setInterval(() => {
        g.fillStyle = "#000"; g.fillRect(0, 0, opts.width, opts.height);
        opts.draw(g);
      }, 66);
      const tracks = [...canvas.captureStream(15).getVideoTracks(), ...rec.dest.stream.getAudioTracks()];
      const recorder = new MediaRecorder(new MediaStream(tracks), type ? { mimeType: type,
        videoBitsPerSecond: 600000, audioBitsPerSecond: 64000 } : {});
      rec.recorder = recorder;
      recorder.ondataavailable = (e) => { if (e.data && e.data.size) enqueue(rec.seq++, e.data); };
      recorder.start(opts.chunkMs);
      opts.note("");
      hook("started");
    }

    function stopRecorder() {
      const r = rec.recorder;
      rec.recorder = null;
      rec.on = false;
      if (rec.timer) { clearInterval(rec.timer); rec.timer = null; }
      const done = new Promise((res) => {
        if (!r || r.state === "inactive") { res(); return; }
        r.addEventListener("stop", () => res(), { once: true });
        r.stop();
      });
      return done.then(() => { if (rec.ac) rec.ac.close().catch(() => {}); rec.ac = null; });
    }

    async function stop() {
      if (!rec.recorder) return;
      await stopRecorder();
      // The recorder's last dataavailable comes before "stop"; wait for every upload, then seal.
      while (rec.uploading) await rec.uploading;
      if (!rec.failed && rec.finishUrl) await post(rec.finishUrl).catch(() => {});
      hook("stopped");
    }

    rec.start = start;
    rec.stop = stop;
    rec.mixTrack = mixTrack;
    return rec;
  }

  window.OporaRecorder = { create };
})();
