/* The group room over Janus's HTTP API and the VideoRoom plugin (a small client written for Opora
 * instead of vendoring janus.js). The lead publishes camera and microphone (and may share the
 * screen); every page subscribes to every other feed; a participant who raises a hand publishes
 * their microphone, which Janus keeps muted until the lead lets them speak. */
(function () {
  "use strict";
  const cfgNode = document.getElementById("room-config");
  if (!cfgNode) return;
  const cfg = JSON.parse(cfgNode.textContent);
  const texts = JSON.parse(document.getElementById("room-texts").textContent);
  const api = cfg.server.replace(/\/$/, "");
  const csrf = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
  const status = document.getElementById("room-status");
  const alertBox = document.getElementById("room-alert");
  const mainVideo = document.getElementById("main-video");
  const audioBox = document.getElementById("room-audio");
  const isLead = !!cfg.publisher;
  const state = { session: null, handlers: {}, pcs: [], subs: {}, myId: null, pub: null, leadStream: null, lastMsg: 0, left: false, remoteAudio: [] };
  window.oporaGroupRoom = state;

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const tx = () => Math.random().toString(36).slice(2, 12);

  async function post(path, body) {
    const r = await fetch(api + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(Object.assign({ transaction: tx() }, body)) });
    const j = await r.json();
    if (j.janus === "error") throw new Error(j.error && j.error.reason);
    return j;
  }
  async function opora(url, body) {
    const r = await fetch(url, { method: body ? "POST" : "GET", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, credentials: "same-origin", body: body ? JSON.stringify(body) : undefined });
    return r.json();
  }
  async function poll() {
    while (state.session && !state.left) {
      try {
        const r = await fetch(`${api}/${state.session}?maxev=10&rid=${Date.now()}`);
        const events = await r.json();
        (Array.isArray(events) ? events : [events]).forEach((ev) => {
          const h = state.handlers[ev.sender];
          if (h) h(ev);
        });
      } catch (e) {
        if (state.left) return;
        alertBox.textContent = texts.lost;
        await sleep(1000);
      }
    }
  }
  async function attach(onEvent) {
    const r = await post(`/${state.session}`, { janus: "attach", plugin: "janus.plugin.videoroom" });
    state.handlers[r.data.id] = onEvent;
    return r.data.id;
  }
  function send(handle, body, jsep) {
    const msg = { janus: "message", body: body };
    if (jsep) msg.jsep = jsep;
    return post(`/${state.session}/${handle}`, msg);
  }
  function gathered(pc) {
    return new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      const t = setTimeout(resolve, 3000);
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") { clearTimeout(t); resolve(); }
      });
    });
  }

  // --- subscribing to the others' feeds --------------------------------------------------------
  async function subscribe(pub) {
    if (pub.id === state.myId || state.subs[pub.id]) return;
    const pc = new RTCPeerConnection({});
    state.pcs.push(pc);
    const sub = { pc: pc, display: pub.display, elements: [] };
    state.subs[pub.id] = sub;
    pc.ontrack = (e) => {
      const stream = e.streams[0] || new MediaStream([e.track]);
      if (e.track.kind === "video") {
        if (!isLead) { mainVideo.srcObject = stream; mainVideo.play().catch(() => {}); }
      } else {
        state.remoteAudio.push(e.track);
        mixTrack(e.track);
        const a = document.createElement("audio");
        a.autoplay = true;
        a.srcObject = stream;
        audioBox.appendChild(a);
        sub.elements.push(a);
        a.play().catch(() => {});
      }
    };
    sub.handle = await attach(async (ev) => {
      if (ev.jsep && ev.jsep.type === "offer") {
        await pc.setRemoteDescription(ev.jsep);
        await pc.setLocalDescription(await pc.createAnswer());
        await gathered(pc);
        await send(sub.handle, { request: "start", room: cfg.room }, { type: "answer", sdp: pc.localDescription.sdp, trickle: false });
      }
    });
    await send(sub.handle, { request: "join", ptype: "subscriber", room: cfg.room, token: cfg.token, streams: [{ feed: pub.id }] });
  }
  function gone(id) {
    const sub = state.subs[id];
    if (!sub) return;
    sub.pc.close();
    sub.elements.forEach((el) => el.remove());
    delete state.subs[id];
  }
  function onPublisherEvent(data) {
    (data.publishers || []).forEach((p) => subscribe(p).catch((e) => console.error(e)));
    if (data.leaving) gone(data.leaving);
    if (data.unpublished) gone(data.unpublished);
    if (data.kicked || (data.videoroom === "event" && data.leaving === "ok")) leave(false);
  }

  // --- publishing ------------------------------------------------------------------------------
  async function publish(stream) {
    const pc = new RTCPeerConnection({});
    state.pcs.push(pc);
    stream.getTracks().forEach((t) => pc.addTrack(t, stream));
    state.pub.pc = pc;
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const answered = new Promise((resolve) => { state.pub.onAnswer = resolve; });
    await send(state.pub.handle, { request: "publish", audio: true, video: stream.getVideoTracks().length > 0, display: cfg.display }, { type: "offer", sdp: pc.localDescription.sdp, trickle: false });
    await pc.setRemoteDescription(await answered);
    const audio = pc.getTransceivers().find((t) => t.sender.track && t.sender.track.kind === "audio");
    return audio ? audio.mid : "0";
  }

  async function join() {
    state.session = (await post("", { janus: "create" })).data.id;
    poll();
    let joined;
    const isJoined = new Promise((resolve) => { joined = resolve; });
    state.pub = { handle: null };
    state.pub.handle = await attach((ev) => {
      const data = ev.plugindata && ev.plugindata.data;
      if (ev.jsep && ev.jsep.type === "answer" && state.pub.onAnswer) state.pub.onAnswer(ev.jsep);
      if (!data) return;
      if (data.videoroom === "joined") { state.myId = data.id; joined(data); }
      if (data.error) alertBox.textContent = data.error;
      onPublisherEvent(data);
    });
    // The feed id is the server's (derived from this participant's link or session): a raised hand
    // is bound to it server-side, so the page publishes as exactly that id.
    await send(state.pub.handle, { request: "join", ptype: "publisher", room: cfg.room, id: cfg.feed, display: cfg.display, token: cfg.token });
    await isJoined;
    opora(cfg.presence, { action: "join" });
    if (isLead) {
      state.leadStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
      mainVideo.srcObject = state.leadStream;
      await publish(state.leadStream);
    }
    status.textContent = texts.connected;
    document.getElementById("room").dataset.connected = "1";
    const recButton = document.getElementById("recording-button");
    if (recButton) recButton.disabled = false;
  }

  // --- hands, chat, moderation -----------------------------------------------------------------
  const handButton = document.getElementById("hand-button");
  if (handButton) handButton.addEventListener("click", async () => {
    handButton.disabled = true;
    try {
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      const mid = await publish(mic);
      await opora(cfg.messages, { kind: "hand", mid: mid });
      handButton.setAttribute("aria-pressed", "true");
    } catch (e) {
      alertBox.textContent = texts.noMic;
      handButton.disabled = false;
    }
  });
  const soundButton = document.getElementById("sound-button");
  if (soundButton) soundButton.addEventListener("click", () => {
    mainVideo.muted = false;
    audioBox.querySelectorAll("audio").forEach((a) => a.play().catch(() => {}));
    mainVideo.play().catch(() => {});
  });
  const screenButton = document.getElementById("screen-button");
  if (screenButton) screenButton.addEventListener("click", async () => {
    try {
      const screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
      const sender = state.pub.pc.getSenders().find((s) => s.track && s.track.kind === "video");
      if (sender) await sender.replaceTrack(screen.getVideoTracks()[0]);
      // The lead's own view (and so the recording) shows what is sent.
      mainVideo.srcObject = screen;
    } catch (e) { alertBox.textContent = String(e.message || e); }
  });
  const chatLog = document.getElementById("chat-log");
  const hands = document.getElementById("hands");
  function moderateButton(item, action, label) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "button button--small";
    b.textContent = label;
    b.dataset.action = action;
    b.addEventListener("click", () => opora(cfg.moderate, { message: item.pk, action: action }));
    return b;
  }
  function show(item) {
    const li = document.createElement("li");
    li.textContent = item.kind === "hand" ? `${item.author} ${texts.hand}` : `${item.author}: ${item.text}`;
    chatLog.appendChild(li);
    if (hands && item.kind === "hand") {
      const h = document.createElement("li");
      h.className = "hand";
      h.dataset.feed = item.feed;
      h.append(item.author + " ");
      h.append(moderateButton(item, "unmute", texts.allow), moderateButton(item, "mute", texts.mute), moderateButton(item, "remove", texts.remove));
      hands.appendChild(h);
    }
  }
  async function pollMessages() {
    while (!state.left) {
      try {
        const data = await opora(`${cfg.messages}?after=${state.lastMsg}`);
        (data.items || []).forEach((item) => { state.lastMsg = Math.max(state.lastMsg, item.pk); show(item); });
        if (typeof data.recording === "boolean") showRecording(data.recording || rec.on);
      } catch (e) { /* the next poll retries */ }
      await sleep(1500);
    }
  }
  document.getElementById("chat-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = document.getElementById("chat-text");
    if (!input.value.trim()) return;
    await opora(cfg.messages, { kind: "chat", text: input.value });
    input.value = "";
  });
  function leave(tell) {
    if (state.left) return;
    stopRecording();
    state.left = true;
    state.pcs.forEach((pc) => pc.close());
    if (state.session) post(`/${state.session}`, { janus: "destroy" }).catch(() => {});
    if (tell !== false) navigator.sendBeacon && opora(cfg.presence, { action: "leave" });
  }
  document.getElementById("leave-button").addEventListener("click", () => { leave(); status.textContent = ""; });
  window.addEventListener("pagehide", () => {
    if (!state.left) {
      state.left = true;
      fetch(cfg.presence, { method: "POST", keepalive: true, headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify({ action: "leave" }) });
      // Free the feed id at once (a reloaded page joins with the same id).
      if (state.session) fetch(`${api}/${state.session}`, { method: "POST", keepalive: true, headers: { "Content-Type": "application/json" }, body: JSON.stringify({ janus: "destroy", transaction: tx() }) }).catch(() => {});
    }
  });

  // --- recording in the lead's browser (the rooms' one recorder, opora/recorder.js) ----------
  // What the lead sends (the camera, or the shared screen) drawn on a canvas, and the room's
  // sound (the lead's microphone and every received audio track); the server refuses the start
  // unless the service's policy and everyone in the room allow it.
  const recIndicator = document.getElementById("recording-indicator");
  function showRecording(on) { if (recIndicator) recIndicator.hidden = !on; }
  function recordingButton(text, pressed) {
    const btn = document.getElementById("recording-button");
    if (btn) { btn.textContent = text; btn.setAttribute("aria-pressed", pressed); }
  }
  const rec = window.OporaRecorder.create({
    csrfToken: csrf,
    startUrl: cfg.recording ? cfg.recording.startUrl : "",
    chunkMs: cfg.recording ? cfg.recording.chunkMs : 5000,
    width: 640, height: 360,
    draw: (g) => { if (mainVideo.srcObject && mainVideo.videoWidth) g.drawImage(mainVideo, 0, 0, 640, 360); },
    audioTracks: () => [...(state.leadStream ? state.leadStream.getAudioTracks() : []), ...state.remoteAudio],
    texts: { failed: texts.recordingFailed, unsupported: texts.recordingUnsupported },
    note: (text) => { const n = document.getElementById("recording-note"); if (n) n.textContent = text; },
    started: () => { showRecording(true); recordingButton(texts.recordingStop, "true"); },
    stopped: () => { showRecording(false); recordingButton(texts.recordingStart, "false"); },
    failed: () => showRecording(false),
  });
  window.oporaGroupRecording = rec;
  function mixTrack(track) { rec.mixTrack(track); }
  function startRecording() { return cfg.recording ? rec.start() : Promise.resolve(); }
  function stopRecording() { return rec.stop(); }
  const recButton = document.getElementById("recording-button");
  if (recButton) recButton.addEventListener("click", async () => {
    recButton.disabled = true;
    try {
      if (rec.recorder) await stopRecording(); else await startRecording();
    } finally { recButton.disabled = false; }
  });

  join().catch((e) => { alertBox.textContent = String(e.message || e); });
  pollMessages();
})();
