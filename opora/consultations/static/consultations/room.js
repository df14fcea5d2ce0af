// The consultation room: WebRTC between the consultant and the client, signalling over the room's
// WebSocket. The consultant offers (after admitting), the client answers; the chat is stored by the
// server and replayed on every reconnect, so the page only re-sends what the server has not confirmed.
(() => {
  "use strict";
  const cfg = JSON.parse(document.getElementById("room-config").textContent);
  const T = cfg.text;
  const $ = (id) => document.getElementById(id);
  const isConsultant = cfg.role === "consultant";

  const st = {
    ws: null, pc: null, audio: null, video: null, remote: null,
    mode: "video", muted: false, cameraOff: false, status: "waiting", startedAt: null,
    peerPresent: false, attempts: 0, closed: false, seen: new Set(), outbox: new Map(),
    chain: Promise.resolve(), warned: false,
  };
  window.oporaRoom = { get pc() { return st.pc; }, state: st };

  const sid = (() => {
    const key = "opora-room-sid-" + cfg.key;
    let v = sessionStorage.getItem(key);
    if (!v) {
      v = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
      sessionStorage.setItem(key, v);
    }
    return v;
  })();

  const say = (msg) => { $("room-status").textContent = msg; };
  const alertMsg = (msg) => { $("room-alert").textContent = msg; };
  const send = (obj) => {
    if (st.ws && st.ws.readyState === WebSocket.OPEN) { st.ws.send(JSON.stringify(obj)); return true; }
    return false;
  };

  // --- local media ---------------------------------------------------------------------------
  async function ensureTracks() {
    const wantAudio = st.mode !== "chat";
    const wantVideo = st.mode === "video";
    try {
      if (wantAudio && !st.audio) {
        const s = await navigator.mediaDevices.getUserMedia({ audio: true });
        st.audio = s.getAudioTracks()[0];
      }
      if (wantVideo && !st.video) {
        const s = await navigator.mediaDevices.getUserMedia({ video: true });
        st.video = s.getVideoTracks()[0];
      }
    } catch (err) {
      alertMsg(T.blocked);
    }
    if (!wantAudio && st.audio) { st.audio.stop(); st.audio = null; }
    if (!wantVideo && st.video) { st.video.stop(); st.video = null; }
    if (st.audio) st.audio.enabled = !st.muted;
    if (st.video) st.video.enabled = !st.cameraOff;
    const local = new MediaStream([st.audio, st.video].filter(Boolean));
    $("local-video").srcObject = st.video ? local : null;
    await applyTracks();
  }

  function transceiver(kind) {
    if (!st.pc) return null;
    return st.pc.getTransceivers().find((t) => t.receiver.track && t.receiver.track.kind === kind) || null;
  }

  async function applyTracks() {
    for (const [kind, track] of [["audio", st.audio], ["video", st.video]]) {
      const t = transceiver(kind);
      if (t && t.sender.track !== track) await t.sender.replaceTrack(track);
    }
  }

  // --- peer connection -----------------------------------------------------------------------
  function newPc() {
    closePc();
    const pc = new RTCPeerConnection({ iceServers: cfg.iceServers });
    st.pc = pc;
    st.remote = new MediaStream();
    $("remote-video").srcObject = st.remote;
    pc.ontrack = (e) => { st.remote.addTrack(e.track); };
    pc.onicecandidate = (e) => { if (e.candidate) send({ type: "ice", candidate: e.candidate.toJSON() }); };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected") say(T.inCall);
    };
    return pc;
  }

  function closePc() {
    if (st.pc) { st.pc.close(); st.pc = null; }
    $("remote-video").srcObject = null;
  }

  async function call() {
    const pc = newPc();
    pc.addTransceiver("audio", { direction: "sendrecv" });
    pc.addTransceiver("video", { direction: "sendrecv" });
    await applyTracks();
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: "offer", sdp: pc.localDescription.sdp });
  }

  async function onOffer(msg) {
    const pc = newPc();
    await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
    for (const t of pc.getTransceivers()) t.direction = "sendrecv";
    await applyTracks();
    await pc.setLocalDescription(await pc.createAnswer());
    send({ type: "answer", sdp: pc.localDescription.sdp });
  }

  async function onSignal(msg) {
    if (msg.type === "offer") return onOffer(msg);
    if (!st.pc) return undefined;
    if (msg.type === "answer") return st.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
    if (msg.type === "ice" && msg.candidate) return st.pc.addIceCandidate(msg.candidate).catch(() => {});
    return undefined;
  }

  // --- chat ----------------------------------------------------------------------------------
  function who(sender) { return sender === cfg.role ? T.me : T[sender]; }

  function showChat(m) {
    if (st.seen.has(m.seq)) return;
    st.seen.add(m.seq);
    if (m.sender === cfg.role && m.client_msg_id) {
      st.outbox.delete(m.client_msg_id);
      const pending = document.querySelector(`[data-pending="${CSS.escape(m.client_msg_id)}"]`);
      if (pending) pending.remove();
    }
    const li = document.createElement("li");
    li.dataset.seq = m.seq;
    li.className = "chat-line chat-line--" + m.sender;
    const b = document.createElement("strong");
    b.textContent = who(m.sender) + ": ";
    li.append(b, document.createTextNode(m.text));
    const log = $("chat-log");
    const after = Array.from(log.children).find((el) => el.dataset.seq && Number(el.dataset.seq) > m.seq);
    log.insertBefore(li, after || log.querySelector("[data-pending]"));
  }

  function flushOutbox() {
    for (const [id, text] of st.outbox) send({ type: "chat", text, client_msg_id: id });
  }

  $("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("chat-input");
    const text = input.value.trim();
    if (!text) return;
    const id = sid.slice(0, 8) + "-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 8);
    st.outbox.set(id, text);
    const li = document.createElement("li");
    li.dataset.pending = id;
    li.className = "chat-line chat-line--pending";
    li.textContent = `${T.me}: ${text} (${T.sending})`;
    $("chat-log").append(li);
    input.value = "";
    send({ type: "chat", text, client_msg_id: id });
  });

  // --- controls ------------------------------------------------------------------------------
  $("mute-button").addEventListener("click", () => {
    st.muted = !st.muted;
    if (st.audio) st.audio.enabled = !st.muted;
    $("mute-button").setAttribute("aria-pressed", String(st.muted));
    $("mute-button").textContent = st.muted ? T.unmute : T.mute;
  });
  $("camera-button").addEventListener("click", () => {
    st.cameraOff = !st.cameraOff;
    if (st.video) st.video.enabled = !st.cameraOff;
    $("camera-button").setAttribute("aria-pressed", String(st.cameraOff));
    $("camera-button").textContent = st.cameraOff ? T.cameraOn : T.cameraOff;
  });
  for (const btn of document.querySelectorAll("[data-mode]")) {
    btn.addEventListener("click", async () => {
      st.mode = btn.dataset.mode;
      for (const b of document.querySelectorAll("[data-mode]")) b.setAttribute("aria-pressed", String(b === btn));
      await ensureTracks();
      send({ type: "mode", mode: st.mode });
    });
  }
  if (isConsultant) {
    $("admit-button").addEventListener("click", () => { send({ type: "admit" }); });
    $("end-button").addEventListener("click", () => {
      if (window.confirm(T.confirmEnd)) send({ type: "end" });
    });
    setInterval(() => {
      if (!st.startedAt || st.status !== "in_progress") return;
      const secs = Math.max(0, Math.floor((Date.now() - st.startedAt) / 1000));
      const mm = String(Math.floor(secs / 60)).padStart(2, "0");
      $("room-clock").textContent = `${mm}:${String(secs % 60).padStart(2, "0")}`;
      // Warnings at the minutes the server rendered (limit-10, limit-5), then at the limit.
      const clock = $("room-clock");
      const max = Number(clock.dataset.maxMinutes || cfg.maxMinutes);
      const warnAt = (clock.dataset.warnAt || "").split(",").filter(Boolean).map(Number);
      const mins = Math.floor(secs / 60);
      st.warned = st.warned || {};
      for (const at of warnAt.concat([max])) {
        if (mins >= at && !st.warned[at]) {
          st.warned[at] = true;
          const left = max - mins;
          alertMsg(left > 0 ? T.limitSoon.replace("%(minutes)s", left).replace("%(max)s", max)
            : T.limitReached.replace("%(max)s", max));
        }
      }
    }, 1000);
    const crisisForm = $("crisis-form");
    if (crisisForm) {
      crisisForm.addEventListener("submit", (e) => {
        e.preventDefault();
        fetch(crisisForm.action, { method: "POST", body: new FormData(crisisForm),
          headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then((r) => {
            if (!r.ok) throw new Error(String(r.status));
            $("crisis").hidden = false;
            $("crisis-status").textContent = T.crisisSent;
            $("crisis").scrollIntoView();
          })
          .catch(() => crisisForm.submit());
      });
    }
  }

  function showState() {
    if (st.status === "ended") { say(T.ended); return; }
    if (isConsultant) {
      $("admit-button").disabled = !(st.status === "waiting" && st.peerPresent);
      if (st.status === "waiting") say(st.peerPresent ? T.clientWaiting : T.noClient);
      else if (!st.peerPresent) say(T.noClient);
    } else if (st.status === "waiting") {
      say(T.waiting);
    }
  }

  function end() {
    st.status = "ended";
    st.closed = true;
    closePc();
    for (const t of [st.audio, st.video]) if (t) t.stop();
    st.audio = st.video = null;
    for (const el of document.querySelectorAll(".room-controls button, .room-modes button, #admit-button, #end-button, #chat-send")) el.disabled = true;
    showState();
    if (st.ws) st.ws.close();
    // The consultant writes the protocol next (regulation 002 §4.4).
    if (isConsultant && cfg.protocolUrl) setTimeout(() => { location.href = cfg.protocolUrl; }, 800);
  }

  // --- WebSocket -----------------------------------------------------------------------------
  function handle(msg) {
    switch (msg.type) {
      case "state":
        st.status = msg.status;
        st.peerPresent = msg.peer_present;
        st.startedAt = msg.started_at ? Date.parse(msg.started_at) : null;
        showState();
        if (st.status === "ended") { end(); break; }
        if (isConsultant && st.status === "in_progress" && st.peerPresent) st.chain = st.chain.then(call);
        break;
      case "history":
        msg.messages.forEach(showChat);
        flushOutbox();
        break;
      case "chat":
        showChat(msg);
        break;
      case "admitted":
        st.status = "in_progress";
        st.startedAt = st.startedAt || Date.now();
        say(T.admitted);
        showState();
        if (isConsultant && st.peerPresent) st.chain = st.chain.then(call);
        break;
      case "peer-joined":
        st.peerPresent = true;
        alertMsg("");
        say(T.peerJoined);
        showState();
        if (isConsultant && st.status === "in_progress") st.chain = st.chain.then(call);
        break;
      case "peer-left":
        st.peerPresent = false;
        closePc();
        alertMsg(T.peerLeft);
        showState();
        break;
      case "mode":
        say({ video: T.modeVideo, voice: T.modeVoice, chat: T.modeChat }[msg.mode] || "");
        break;
      case "offer": case "answer": case "ice":
        st.chain = st.chain.then(() => onSignal(msg)).catch((e) => console.error(e));
        break;
      case "ended":
        end();
        break;
      case "refused":
        st.closed = true;
        alertMsg(msg.message);
        say(msg.message);
        break;
      case "replaced":
        st.closed = true;
        closePc();
        say(T.replaced);
        break;
      default:
        break;
    }
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}${cfg.wsPath}?sid=${sid}`);
    st.ws = ws;
    ws.onopen = () => { st.attempts = 0; };
    ws.onmessage = (e) => { try { handle(JSON.parse(e.data)); } catch (err) { console.error(err); } };
    ws.onclose = () => {
      if (st.ws !== ws || st.closed) return;
      say(T.reconnecting);
      st.attempts += 1;
      const delay = Math.min(15000, 500 * 2 ** Math.min(st.attempts, 5)) + Math.random() * 300;
      setTimeout(connect, delay);
    };
  }

  ensureTracks().finally(connect);
})();
