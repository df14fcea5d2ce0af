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
    mode: "video", muted: false, cameraOff: false, unread: 0, status: "waiting", startedAt: null,
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
        // The camera taken away (unplugged, used by another program): no frozen self-view.
        st.video.addEventListener("ended", () => showSelf());
      }
    } catch (err) {
      alertMsg(T.blocked);
    }
    if (!wantAudio && st.audio) { st.audio.stop(); st.audio = null; }
    if (!wantVideo && st.video) { st.video.stop(); st.video = null; }
    if (st.audio) st.audio.enabled = !st.muted;
    mixTrack(st.audio);
    if (st.video) st.video.enabled = !st.cameraOff;
    showSelf();
    await applyTracks();
  }

  // The self-view shows the camera track only (never the microphone: no echo, no autoplay block),
  // and is started explicitly: a muted element may still wait for play() after its source changes.
  function showSelf() {
    const el = $("local-video");
    const track = st.video && st.video.readyState === "live" ? st.video : null;
    const current = el.srcObject && el.srcObject.getVideoTracks()[0];
    if (track && current !== track) el.srcObject = new MediaStream([track]);
    if (!track) el.srcObject = null;
    $("room-self").hidden = !track || st.cameraOff;
    if (track) el.play().catch(() => {});
  }

  // The other side's picture has sound: a phone may refuse to start it before a tap on this page
  // (the tap on the previous page does not count); then one big button starts it.
  function playRemote() {
    const el = $("remote-video");
    if (!el.srcObject) return;
    el.play().then(() => { $("play-button").hidden = true; }).catch((err) => {
      if (err && err.name === "NotAllowedError") $("play-button").hidden = false;
    });
  }
  $("play-button").addEventListener("click", () => {
    $("play-button").hidden = true;
    playRemote();
  });

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
    pc.ontrack = (e) => { st.remote.addTrack(e.track); mixTrack(e.track); playRemote(); };
    pc.onicecandidate = (e) => { if (e.candidate) send({ type: "ice", candidate: e.candidate.toJSON() }); };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState !== "connected") return;
      say(T.inCall);
      // Recording starts with the call where the policy and the client's consent allow it.
      if (isConsultant && !rec.on && !rec.stopped) startRecording();
      if (isConsultant && $("recording-button")) $("recording-button").disabled = false;
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
    if (m.file) {
      // A file sent in the chat: each side downloads it through its own link (token or login).
      li.classList.add("chat-file");
      const a = document.createElement("a");
      a.href = `${cfg.fileBase}${m.seq}/`;
      a.textContent = m.file.name;
      a.setAttribute("download", m.file.name);
      li.append(b, a, document.createTextNode(` (${fmtSize(m.file.size)}, ${T.download})`));
    } else {
      li.append(b, document.createTextNode(m.text));
    }
    const log = $("chat-log");
    const after = Array.from(log.children).find((el) => el.dataset.seq && Number(el.dataset.seq) > m.seq);
    log.insertBefore(li, after || log.querySelector("[data-pending]"));
    log.scrollTop = log.scrollHeight;
    if (m.sender !== cfg.role && !chatVisible()) setUnread(st.unread + 1);
  }

  // --- the chat drawer (a phone) or panel (a desktop), with the count of unread lines ----------
  function chatVisible() {
    const chat = $("room-chat");
    return chat.offsetParent !== null || getComputedStyle(chat).position === "fixed" && chat.classList.contains("is-open");
  }

  function setUnread(n) {
    st.unread = n;
    $("chat-unread").hidden = n === 0;
    $("chat-unread-count").textContent = String(n);
    $("chat-unread-text").textContent = n ? T.unread.replace("%(count)s", n) : "";
  }

  function openChat(open) {
    const chat = $("room-chat");
    chat.classList.toggle("is-open", open);
    $("chat-toggle").setAttribute("aria-expanded", String(open));
    if (open) {
      setUnread(0);
      const log = $("chat-log");
      log.scrollTop = log.scrollHeight;
      // On a phone the drawer's heading takes the focus (no keyboard popping up over the chat).
      $("chat-heading").focus();
    } else {
      $("chat-toggle").focus();
    }
  }
  $("chat-toggle").addEventListener("click", () => openChat(!$("room-chat").classList.contains("is-open")));
  $("chat-close").addEventListener("click", () => openChat(false));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && $("room-chat").classList.contains("is-open")) openChat(false);
  });

  // --- help with sound or picture -------------------------------------------------------------
  const help = $("room-help");
  $("problem-button").addEventListener("click", () => {
    if (typeof help.showModal === "function") help.showModal(); else help.setAttribute("open", "");
  });
  $("help-close").addEventListener("click", () => help.close ? help.close() : help.removeAttribute("open"));
  $("reload-button").addEventListener("click", () => location.reload());

  // --- rotation: keep the stage in view and the chat at its last line -------------------------
  let orientation = null;
  function onResize() {
    const now = window.innerWidth > window.innerHeight ? "landscape" : "portrait";
    $("room").dataset.orientation = now;
    if (orientation && orientation !== now && window.innerWidth < 1024) {
      $("room-media").scrollIntoView({ block: "start" });
    }
    orientation = now;
    const log = $("chat-log");
    log.scrollTop = log.scrollHeight;
  }
  window.addEventListener("resize", onResize);
  window.addEventListener("orientationchange", onResize);

  // A phone held upright: the stage takes what the screen has left under the heading, so that
  // the control bar is on the first screen, in reach of the thumb (the heading's height changes
  // with the status lines; sideways and on a desk the stylesheet decides).
  function fitStage() {
    const room = $("room");
    const upright = window.innerWidth < 1024 && window.innerHeight > window.innerWidth;
    if (!upright) { room.style.removeProperty("--stage-h"); return; }
    const top = $("room-media").getBoundingClientRect().top + window.scrollY;
    const left = window.innerHeight - top - $("room-bar").offsetHeight - 12;
    room.style.setProperty("--stage-h", `${Math.max(192, Math.floor(left))}px`);
  }
  window.addEventListener("resize", fitStage);
  if (typeof ResizeObserver === "function") new ResizeObserver(fitStage).observe(document.querySelector(".room-head"));
  onResize();
  fitStage();

  function fmtSize(n) {
    if (n >= 1048576) return (n / 1048576).toFixed(1) + " MB";
    if (n >= 1024) return Math.round(n / 1024) + " KB";
    return n + " B";
  }

  function postForm(url, body) {
    return fetch(url, { method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRFToken": cfg.csrfToken, Accept: "application/json" } });
  }

  // --- files in the chat (regulation 002 §4.3.2: materials sent) ------------------------------
  $("file-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("file-input");
    const file = input.files && input.files[0];
    $("file-error").textContent = "";
    if (!file) return;
    const fd = new FormData();
    fd.append("file", file);
    fd.append("client_msg_id", sid.slice(0, 8) + "-f" + Date.now().toString(36));
    $("file-send").disabled = true;
    say(T.fileSending);
    try {
      const r = await postForm(cfg.fileUrl, fd);
      const data = await r.json().catch(() => ({}));
      if (!r.ok || !data.ok) throw new Error(data.error || String(r.status));
      showChat(data.message);
      input.value = "";
      say("");
    } catch (err) {
      $("file-error").textContent = T.fileFailed.replace("%(reason)s", err.message);
      say("");
    } finally {
      $("file-send").disabled = st.status === "ended";
    }
  });

  function showRecording(on) {
    $("recording-indicator").hidden = !on;
  }

  function refreshRecording() {
    if (!cfg.recordingStatusUrl) return;
    fetch(cfg.recordingStatusUrl, { credentials: "same-origin" })
      .then((r) => r.json()).then((d) => showRecording(Boolean(d.on))).catch(() => {});
  }

  // --- recording in the consultant's browser (docs/ARCHITECTURE.md) ---------------------------
  // The rooms' recorder (opora/recorder.js) over a mix of both sides: the two videos side by side
  // on a canvas, the audio tracks of both mixed; the server checks every chunk against the
  // service's policy and the client's consent.
  const rec = window.OporaRecorder.create({
    csrfToken: cfg.csrfToken,
    startUrl: cfg.recording ? cfg.recording.startUrl : "",
    chunkMs: cfg.recording ? cfg.recording.chunkMs : 5000,
    width: 640, height: 240,
    draw: (g) => {
      for (const [id, x] of [["remote-video", 0], ["local-video", 320]]) {
        const v = $(id);
        if (v.srcObject && v.videoWidth) g.drawImage(v, x, 0, 320, 240);
      }
    },
    audioTracks: () => [st.audio, ...(st.remote ? st.remote.getAudioTracks() : [])],
    texts: { failed: T.recordingFailed, unsupported: T.recordingUnsupported },
    note: (text) => { const n = $("recording-note"); if (n) n.textContent = text; },
    started: () => {
      showRecording(true);
      const btn = $("recording-button");
      btn.textContent = T.recordingStop; btn.disabled = false;
    },
    stopped: () => {
      showRecording(false);
      const btn = $("recording-button");
      if (btn) { btn.textContent = T.recordingStart; btn.disabled = st.status !== "in_progress"; }
    },
  });
  rec.stopped = false;
  window.oporaRecording = rec;
  function mixTrack(track) { rec.mixTrack(track); }

  function startRecording() {
    if (rec.on || !isConsultant || !cfg.recording || cfg.recording.never) return Promise.resolve();
    return rec.start();
  }

  function stopRecording() { return rec.stop(); }

  if (isConsultant && $("recording-button")) {
    $("recording-button").addEventListener("click", () => {
      if (rec.recorder) { rec.stopped = true; stopRecording(); } else { rec.stopped = false; startRecording(); }
    });
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
    mixTrack(st.audio);
    $("mute-button").setAttribute("aria-pressed", String(st.muted));
  });
  $("camera-button").addEventListener("click", () => {
    st.cameraOff = !st.cameraOff;
    if (st.video) st.video.enabled = !st.cameraOff;
    $("camera-button").setAttribute("aria-pressed", String(st.cameraOff));
    showSelf();
  });
  for (const btn of document.querySelectorAll("[data-mode]")) {
    btn.addEventListener("click", async () => {
      st.mode = btn.dataset.mode;
      for (const b of document.querySelectorAll("[data-mode]")) b.setAttribute("aria-pressed", String(b === btn));
      await ensureTracks();
      send({ type: "mode", mode: st.mode });
      if (st.mode === "chat") {
        if (help.open && help.close) help.close();
        openChat(true);
      }
    });
  }
  const leave = $("leave-button");
  if (leave) {
    // The client leaves (the consultant sees "the other side has left") and may come back while
    // the consultation time lasts: a reload opens the room again.
    leave.addEventListener("click", () => {
      st.closed = true;
      closePc();
      for (const t of [st.audio, st.video]) if (t) t.stop();
      st.audio = st.video = null;
      showSelf();
      showRecording(false);
      if (st.ws) st.ws.close();
      say(T.left);
      for (const el of document.querySelectorAll(".room-bar button, #problem-button")) el.disabled = true;
      $("room-left").hidden = false;
      $("rejoin-button").focus();
    });
    $("rejoin-button").addEventListener("click", () => location.reload());
  }
  if (isConsultant) {
    // The call runs over the WebSocket: tell the server the staff session is in use, so the idle
    // sign-out (opora/accounts/sessions.py) does not end it in the middle of a consultation.
    const alive = document.querySelector('meta[name="opora-session-alive"]');
    if (alive) {
      setInterval(() => {
        if (st.status !== "ended") fetch(alive.content, { credentials: "same-origin" }).catch(() => {});
      }, 4 * 60 * 1000);
    }
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

  async function end() {
    st.status = "ended";
    st.closed = true;
    // The badge goes with the call on both sides (the recording is sealed just after).
    showRecording(false);
    const saving = stopRecording();
    closePc();
    for (const t of [st.audio, st.video]) if (t) t.stop();
    st.audio = st.video = null;
    for (const el of document.querySelectorAll(".room-bar button:not(#chat-toggle), .room-modes button, #admit-button, #end-button, #chat-send, #file-send, #recording-button")) el.disabled = true;
    showSelf();
    showState();
    if (st.ws) st.ws.close();
    await saving;
    // The consultant writes the protocol next (regulation 002 §4.4).
    if (isConsultant && cfg.protocolUrl) setTimeout(() => { location.href = cfg.protocolUrl; }, 800);
    // The client: the same link now opens the closing page, with the questionnaire (regulation 004).
    if (!isConsultant && $("room-after")) $("room-after").hidden = false;
  }

  // --- WebSocket -----------------------------------------------------------------------------
  function handle(msg) {
    switch (msg.type) {
      case "state":
        st.status = msg.status;
        st.peerPresent = msg.peer_present;
        st.startedAt = msg.started_at ? Date.parse(msg.started_at) : null;
        if (!isConsultant) refreshRecording();
        showState();
        if (st.status === "ended") { end(); break; }
        if (isConsultant && st.status === "in_progress" && st.peerPresent) st.chain = st.chain.then(call);
        break;
      case "recording":
        showRecording(Boolean(msg.on));
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
      case "error":
        // The server's message is already in the reader's language.
        alertMsg(msg.message || "");
        say(msg.message || "");
        // The other side stopped receiving our signals: the consultant starts the call over
        // in a moment, when the other side is (still or again) there.
        if (msg.code === "peer_full" && isConsultant) {
          setTimeout(() => {
            if (st.status === "in_progress" && st.peerPresent && !st.closed) {
              st.chain = st.chain.then(call);
            }
          }, 2000);
        }
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
