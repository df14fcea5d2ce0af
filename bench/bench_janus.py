"""Group rooms through Janus (issue 14): one presenter, N receiving participants, on this machine.

    .venv/bin/python bench/bench_janus.py [--tiers 10,25,50,75,100] [--receivers N] [--window 20]
                                          [--quick] [--janus-url URL --janus-pid PID] [--json]

- Janus: a throwaway instance exactly as scripts/janus.sh starts one (deploy/janus/ configuration
  rendered by `scripts/janus.sh render`, HTTP API on a free loopback port), unless --janus-url is
  given (then --janus-pid for its CPU).
- The room: through the app's own code — `opora.events.janus.room_ensure` creates the VideoRoom
  room with the event's room secret and the participants' tokens (`participant_token`), the same
  calls the room page makes (views._room_context). The Event is an unsaved in-memory instance
  (room_ensure and participant_token read only its pk and room_secret), so no database and no
  web server are needed. A join with a token Opora did not issue is checked to be refused by Janus.
- The presenter: aiortc publishing a synthetic video track (a moving pattern, --size 320x240,
  --fps 15, VP8) and audio (Opus), through the HTTP API as the room page does.
- The receivers: aiortc subscribers, each joining as group_room.js does (a session; join as a
  participant with its own token, which lists the presenter's feed; a subscriber handle joining
  that feed; SDP answer without trickle; long-poll for events). They run in --processes worker
  processes (default: the cores), joining --stagger seconds apart.
- Measured per receiver: time from its join request (session create) to its first decoded video
  frame (with --no-decode: its first complete frame, assembled from RTP but not decoded, which
  takes the receivers' VP8 decoding off the shared cores); decoded frames per second and RTP packets received/lost over a steady window (--window
  seconds) that starts once every receiver has its first frame. Over the same window: Janus's CPU
  (/proc/<pid>/stat, in % of one core), the bench's own CPU (presenter + receivers: it shares the
  same two cores with Janus) and the load average.
- Beside it, the same run's 1:1 figure: two aiortc peers connected directly on loopback (no Janus),
  the same tracks: time to the first decoded frame and frames per second.
- Tiers: receivers are tried at each tier in turn; escalation stops after the first tier that does
  not hold (a receiver without frames, or the median receiver below 90 % of the sent rate).

Results: printed and in var/bench/janus.json; `--json` prints them as the last line (bench/run.py
`--only janus`). `--quick`: 3 receivers, 5-second window (a smoke run). Method and figures:
docs/PERFORMANCE.md, "Group rooms through Janus (issue 14)".
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import fractions
import json
import logging
import math
import multiprocessing as mp
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench"
JANUS = shutil.which("janus") or "/usr/bin/janus"
HOLD_SHARE = 0.9  # a tier holds when the median receiver decodes ≥ 90 % of the frames sent
JOIN_TIMEOUT_S = 60.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def say(text: str = "", *, quiet: bool = False) -> None:
    if not quiet:
        print(text, file=sys.stderr if QUIET[0] else sys.stdout, flush=True)


QUIET = [False]


def pct(values: list[float], q: float) -> float | None:
    """The q-quantile by the nearest rank (as bench/run.py)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def rnd(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# --- Janus, the process ---------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) from /proc/<pid>/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class JanusServer:
    """A throwaway Janus with Opora's configuration (as scripts/janus.sh's ensure_janus)."""

    def __init__(self, secret: str = "") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="opora-janus-bench."))
        self.secret = secret or secrets.token_hex(16)
        port = free_port()
        env = {
            **os.environ,
            "OPORA_JANUS_ADMIN_SECRET": self.secret,
            "OPORA_JANUS_HTTP_PORT": str(port),
            "OPORA_JANUS_HTTP_INTERFACE": "lo",
        }
        subprocess.run(
            ["bash", str(ROOT / "scripts/janus.sh"), "render", str(self.dir)], env=env, check=True
        )
        self.process = subprocess.Popen(
            [JANUS, "-F", str(self.dir), "-L", str(self.dir / "janus.log"), "--disable-colors"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.pid = self.process.pid
        self.url = f"http://127.0.0.1:{port}/janus"
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url + "/info", timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        log = (
            (self.dir / "janus.log").read_text()[-2000:]
            if (self.dir / "janus.log").exists()
            else ""
        )
        self.stop()
        raise RuntimeError(f"janus did not start:\n{log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def janus_version(url: str) -> str:
    with urllib.request.urlopen(url + "/info", timeout=5) as response:
        info = json.loads(response.read())
    return str(info.get("version_string", "?"))


# --- the room, through the app's code -------------------------------------------------------------


def make_room(url: str, admin_secret: str, receivers: int) -> dict[str, Any]:
    """Creates the event's room as the room page does: room_ensure with the participants' tokens."""
    os.environ["OPORA_JANUS_URL"] = url
    os.environ["OPORA_JANUS_ADMIN_SECRET"] = admin_secret
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opora.settings.test")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    for name in ("httpx", "aioice", "aiortc"):  # Django's logging config would print every request
        logging.getLogger(name).setLevel(logging.WARNING)
    from opora.events import janus
    from opora.events.models import Event

    event = Event(pk=900_000 + secrets.randbelow(99_999))  # in memory: a fresh room_secret
    presenter = janus.participant_token(event, "lead")
    tokens = [janus.participant_token(event, f"r{i}") for i in range(receivers)]
    janus.room_ensure(event, [presenter])  # the lead opens the room first ...
    janus.room_ensure(event, tokens)  # ... then the participants' tokens are added ("allowed")
    return {"room": event.room_id, "presenter": presenter, "tokens": tokens}


# --- a small Janus HTTP API client (long-poll), as group_room.js ------------------------------------


class Session:
    def __init__(self, client: Any, url: str) -> None:
        self.client = client
        self.url = url
        self.id: int | None = None
        self.queues: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self.poller: asyncio.Task[None] | None = None

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(
            self.url + path, json={"transaction": secrets.token_hex(6), **body}, timeout=30
        )
        answer: dict[str, Any] = response.json()
        if answer.get("janus") == "error":
            raise RuntimeError(answer.get("error", {}).get("reason", "janus error"))
        return answer

    async def create(self) -> None:
        self.id = (await self.post("", {"janus": "create"}))["data"]["id"]
        self.poller = asyncio.create_task(self.poll())

    async def poll(self) -> None:
        while self.id is not None:
            try:
                response = await self.client.get(
                    f"{self.url}/{self.id}", params={"maxev": 10, "rid": time.time_ns()}, timeout=40
                )
                events = response.json()
            except Exception:  # noqa: BLE001 (a dropped poll is retried, as the page does)
                await asyncio.sleep(0.5)
                continue
            for event in events if isinstance(events, list) else [events]:
                queue = self.queues.get(event.get("sender"))
                if queue is not None:
                    queue.put_nowait(event)

    async def attach(self) -> int:
        answer = await self.post(
            f"/{self.id}", {"janus": "attach", "plugin": "janus.plugin.videoroom"}
        )
        handle = int(answer["data"]["id"])
        self.queues[handle] = asyncio.Queue()
        return handle

    async def send(
        self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> None:
        message: dict[str, Any] = {"janus": "message", "body": body}
        if jsep:
            message["jsep"] = jsep
        await self.post(f"/{self.id}/{handle}", message)

    async def wait(self, handle: int, *, jsep: str = "", joined: bool = False) -> dict[str, Any]:
        """The handle's next event carrying an SDP of type `jsep`, or its `joined` answer."""
        while True:
            event = await self.queues[handle].get()
            data = event.get("plugindata", {}).get("data", {})
            if data.get("error"):
                raise RuntimeError(f"janus: {data['error']}")
            if jsep and event.get("jsep", {}).get("type") == jsep:
                return event
            if joined and data.get("videoroom") == "joined":
                return data

    async def destroy(self) -> None:
        session, self.id = self.id, None
        if self.poller:
            self.poller.cancel()
        if session is not None:
            try:
                await self.client.post(
                    f"{self.url}/{session}",
                    json={"janus": "destroy", "transaction": "x"},
                    timeout=10,
                )
            except Exception:  # noqa: BLE001 (Janus drops it after session_timeout anyway)
                pass


def http_client() -> Any:
    import httpx

    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=None)
    )


def peer() -> Any:
    from aiortc import RTCConfiguration, RTCPeerConnection

    # No STUN server: everything is on loopback (aiortc would otherwise ask Google's).
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


# --- media ------------------------------------------------------------------------------------------


def synthetic_video(width: int, height: int, fps: int) -> Any:
    """A video track of a moving pattern (so every frame is new for the encoder), paced at fps."""
    from aiortc import MediaStreamTrack
    from av import VideoFrame

    class Pattern(MediaStreamTrack):
        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self.n = 0
            self.start: float | None = None
            self.sent: list[float] = []
            self.rows = [bytes((x + y) % 256 for x in range(width)) for y in range(0, 256)]

        async def recv(self) -> Any:
            if self.start is None:
                self.start = time.monotonic()
            due = self.start + self.n / fps
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            frame = VideoFrame(width, height, "yuv420p")
            shift = (self.n * 4) % 256
            luma = frame.planes[0]
            stride = luma.line_size
            buffer = bytearray(stride * height)
            for y in range(height):
                row = self.rows[(y + shift) % 256]
                buffer[y * stride : y * stride + width] = row
            luma.update(bytes(buffer))
            for plane in frame.planes[1:]:
                plane.update(bytes([128 + (self.n % 64)]) * plane.buffer_size)
            frame.pts = self.n * (90000 // fps)
            frame.time_base = fractions.Fraction(1, 90000)
            self.n += 1
            self.sent.append(time.time())
            return frame

    return Pattern()


def silence() -> Any:
    from aiortc.mediastreams import AudioStreamTrack

    return AudioStreamTrack()


class Receiver:
    """One participant's subscription: counts decoded video frames and audio frames."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.started = 0.0
        self.first_frame_s: float | None = None
        self.frames: list[float] = []  # wall-clock arrival of each decoded video frame
        self.audio = 0
        self.error = ""
        self.pc: Any = None
        self.session: Session | None = None
        self.got_frame = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def on_track(self, track: Any) -> None:
        self.tasks.append(asyncio.create_task(self.consume(track)))

    async def consume(self, track: Any) -> None:
        from aiortc.mediastreams import MediaStreamError

        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            if track.kind == "audio":
                self.audio += 1
                continue
            self.frames.append(time.time())
            if self.first_frame_s is None:
                self.first_frame_s = time.monotonic() - self.started
                self.got_frame.set()

    async def inbound(self) -> dict[str, int]:
        """RTP packets received and lost on the video stream so far (aiortc's getStats)."""
        if self.pc is None:
            return {"packets": 0, "lost": 0}
        report = await self.pc.getStats()
        for stats in report.values():
            if (
                getattr(stats, "type", "") == "inbound-rtp"
                and getattr(stats, "kind", "") == "video"
            ):
                return {"packets": stats.packetsReceived, "lost": stats.packetsLost}
        return {"packets": 0, "lost": 0}

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.pc is not None:
            await self.pc.close()
        if self.session is not None:
            await self.session.destroy()


async def receive_via_janus(
    receiver: Receiver, client: Any, url: str, room: int, token: str
) -> None:
    """Joins as the room page does and waits for the first decoded frame of the presenter."""
    receiver.started = time.monotonic()
    session = receiver.session = Session(client, url)
    await session.create()
    handle = await session.attach()
    await session.send(
        handle,
        {
            "request": "join",
            "ptype": "publisher",
            "room": room,
            "display": f"r{receiver.index}",
            "token": token,
        },
    )
    joined = await session.wait(handle, joined=True)
    publishers = joined.get("publishers") or []
    if not publishers:
        raise RuntimeError("no presenter in the room")
    sub = await session.attach()
    await session.send(
        sub,
        {
            "request": "join",
            "ptype": "subscriber",
            "room": room,
            "token": token,
            "streams": [{"feed": publishers[0]["id"]}],
        },
    )
    offer = (await session.wait(sub, jsep="offer"))["jsep"]
    from aiortc import RTCSessionDescription

    pc = receiver.pc = peer()
    pc.on("track", receiver.on_track)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    await session.send(
        sub,
        {"request": "start", "room": room},
        {"type": "answer", "sdp": pc.localDescription.sdp, "trickle": False},
    )
    await receiver.got_frame.wait()


async def publish_via_janus(
    client: Any, url: str, room: int, token: str, tracks: list[Any]
) -> tuple[Session, Any]:
    from aiortc import RTCSessionDescription

    session = Session(client, url)
    await session.create()
    handle = await session.attach()
    await session.send(
        handle,
        {"request": "join", "ptype": "publisher", "room": room, "display": "lead", "token": token},
    )
    await session.wait(handle, joined=True)
    pc = peer()
    for track in tracks:
        pc.addTrack(track)
    await pc.setLocalDescription(await pc.createOffer())
    await session.send(
        handle,
        {"request": "publish", "audio": True, "video": True, "display": "lead"},
        {"type": "offer", "sdp": pc.localDescription.sdp, "trickle": False},
    )
    answer = (await session.wait(handle, jsep="answer"))["jsep"]
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
    return session, pc


async def refused_without_token(client: Any, url: str, room: int) -> bool:
    """A participant with a token Opora did not issue is refused by Janus itself."""
    session = Session(client, url)
    await session.create()
    try:
        handle = await session.attach()
        await session.send(
            handle, {"request": "join", "ptype": "publisher", "room": room, "token": "forged"}
        )
        try:
            await asyncio.wait_for(session.wait(handle, joined=True), 10)
        except RuntimeError:
            return True
        return False
    finally:
        await session.destroy()


# --- the worker processes (receivers) ---------------------------------------------------------------


def worker(spec: dict[str, Any], results: Any, commands: Any) -> None:
    asyncio.run(worker_main(spec, results, commands))


class _Undecoded:
    """--no-decode: the receiver hands on each complete frame as aiortc assembled it from RTP
    (depacketised, in order, after the jitter buffer) without decoding it, so that a receiver
    costs this machine less and Janus, not the receivers' VP8 decoding, is what is loaded."""

    def decode(self, encoded_frame: Any) -> list[Any]:
        return [encoded_frame]


async def worker_main(spec: dict[str, Any], results: Any, commands: Any) -> None:
    loop = asyncio.get_running_loop()
    if not spec.get("decode", True):
        import aiortc.rtcrtpreceiver

        aiortc.rtcrtpreceiver.get_decoder = lambda codec: _Undecoded()
    receivers = [Receiver(i) for i in spec["indexes"]]
    async with http_client() as client:

        async def one(r: Receiver, delay: float) -> None:
            await asyncio.sleep(delay)
            try:
                await asyncio.wait_for(
                    receive_via_janus(
                        r, client, spec["url"], spec["room"], spec["tokens"][r.index]
                    ),
                    JOIN_TIMEOUT_S,
                )
            except Exception as exc:  # noqa: BLE001 (reported per receiver)
                r.error = f"{type(exc).__name__}: {exc}"[:200]

        # Receivers of all workers interleave: worker w's k-th receiver is the (k*W + w)-th to join.
        await asyncio.gather(*(one(r, r.index * spec["stagger"]) for r in receivers))
        results.put(("ready", spec["worker"], None))
        window = await loop.run_in_executor(None, commands.recv)
        start, end = window
        await asyncio.sleep(max(0.0, start - time.time()))
        before = [await r.inbound() for r in receivers]
        await asyncio.sleep(max(0.0, end - time.time()))
        after = [await r.inbound() for r in receivers]
        rows = []
        for r, b, a in zip(receivers, before, after, strict=True):
            frames = sum(1 for t in r.frames if start <= t < end)
            rows.append(
                {
                    "receiver": r.index,
                    "first_frame_s": rnd(r.first_frame_s, 3),
                    "fps": round(frames / (end - start), 2),
                    "packets_per_s": round((a["packets"] - b["packets"]) / (end - start), 1),
                    "lost": a["lost"] - b["lost"],
                    "audio_frames": r.audio,
                    "error": r.error,
                }
            )
        results.put(("done", spec["worker"], rows))
        await asyncio.gather(*(r.close() for r in receivers), return_exceptions=True)


# --- the tiers --------------------------------------------------------------------------------------


def udp_receive_buffer_errors() -> int:
    """The machine's UDP datagrams dropped because a receiving socket's buffer was full: a starved
    receiver (the bench's own processes) loses packets this way, a loss Janus did not cause."""
    lines = [
        ln.split()
        for ln in Path("/proc/net/snmp").read_text().splitlines()
        if ln.startswith("Udp:")
    ]
    return int(lines[1][lines[0].index("RcvbufErrors")])


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


async def run_tier(
    n: int, args: argparse.Namespace, janus: dict[str, Any], room: dict[str, Any], video: Any
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    workers = max(1, min(args.processes, n))
    procs, pipes = [], []
    for w in range(workers):
        parent, child = ctx.Pipe()
        spec = {
            "worker": w,
            "url": janus["url"],
            "room": room["room"],
            "tokens": room["tokens"],
            "indexes": list(range(w, n, workers)),
            "stagger": args.stagger,
            "decode": not args.no_decode,
        }
        proc = ctx.Process(target=worker, args=(spec, results, child), daemon=True)
        proc.start()
        procs.append(proc)
        pipes.append(parent)
    joining = time.monotonic()
    for _ in range(workers):
        await loop.run_in_executor(None, results.get, True, JOIN_TIMEOUT_S + n * args.stagger + 60)
    join_s = time.monotonic() - joining
    start = time.time() + 1.0
    end = start + args.window
    for pipe in pipes:
        pipe.send((start, end))
    await asyncio.sleep(max(0.0, start - time.time()))
    pids = {
        "janus": janus["pid"],
        "bench": os.getpid(),
        **{f"w{i}": p.pid for i, p in enumerate(procs)},
    }
    cpu0 = {k: cpu_seconds(pid) for k, pid in pids.items() if pid}
    drops0 = udp_receive_buffer_errors()
    load0 = loadavg()
    await asyncio.sleep(max(0.0, end - time.time()))
    cpu1 = {k: cpu_seconds(pid) for k, pid in pids.items() if pid}
    drops1 = udp_receive_buffer_errors()
    load1 = loadavg()
    rows: list[dict[str, Any]] = []
    for _ in range(workers):
        kind, _w, part = await loop.run_in_executor(None, results.get, True, 60)
        rows.extend(part or [])
    for proc in procs:
        await loop.run_in_executor(None, proc.join, 30)
    sent = sum(1 for t in video.sent if start <= t < end) / args.window
    span = end - start
    cpu = {k: round(100 * (cpu1[k] - cpu0[k]) / span, 1) for k in cpu1}
    first = [r["first_frame_s"] for r in rows if r["first_frame_s"] is not None]
    fps = [r["fps"] for r in rows]
    failed = [r for r in rows if r["first_frame_s"] is None]
    median_fps = pct(fps, 0.5) or 0.0
    tier = {
        "receivers": n,
        "workers": workers,
        "join_all_s": round(join_s, 2),
        "sent_fps": round(sent, 2),
        "first_frame_p50_s": rnd(pct(first, 0.5), 3),
        "first_frame_p95_s": rnd(pct(first, 0.95), 3),
        "first_frame_max_s": rnd(max(first) if first else None, 3),
        "fps_p50": rnd(median_fps),
        "fps_min": rnd(min(fps) if fps else None),
        "fps_mean": rnd(sum(fps) / len(fps) if fps else None),
        "receivers_at_90pct": sum(1 for f in fps if f >= HOLD_SHARE * sent),
        "video_packets_per_s_p50": rnd(pct([r["packets_per_s"] for r in rows], 0.5), 1),
        "video_packets_lost": sum(r["lost"] for r in rows),
        "udp_receive_buffer_drops": drops1 - drops0,
        "without_frames": len(failed),
        "errors": sorted({r["error"] for r in failed if r["error"]})[:5],
        "janus_cpu_pct": cpu.get("janus"),
        "bench_cpu_pct": round(sum(v for k, v in cpu.items() if k != "janus"), 1),
        "bench_presenter_cpu_pct": cpu["bench"],
        "loadavg_before": load0,
        "loadavg_after": load1,
        "per_receiver": sorted(rows, key=lambda r: r["receiver"]),
    }
    tier["holds"] = not failed and median_fps >= HOLD_SHARE * sent
    return tier


async def peer_to_peer(args: argparse.Namespace) -> dict[str, Any]:
    """The 1:1 figure: two aiortc peers directly on loopback, the same tracks, no Janus."""
    video = synthetic_video(args.width, args.height, args.fps)
    sender, receiving = peer(), peer()
    receiver = Receiver(0)
    receiving.on("track", receiver.on_track)
    receiver.pc = receiving
    receiver.started = time.monotonic()
    sender.addTrack(video)
    sender.addTrack(silence())
    await sender.setLocalDescription(await sender.createOffer())
    await receiving.setRemoteDescription(sender.localDescription)
    await receiving.setLocalDescription(await receiving.createAnswer())
    await sender.setRemoteDescription(receiving.localDescription)
    await asyncio.wait_for(receiver.got_frame.wait(), JOIN_TIMEOUT_S)
    await asyncio.sleep(1.0)
    start = time.time()
    cpu0 = cpu_seconds(os.getpid())
    before = await receiver.inbound()
    await asyncio.sleep(args.window)
    end = time.time()
    after = await receiver.inbound()
    cpu1 = cpu_seconds(os.getpid())
    frames = sum(1 for t in receiver.frames if start <= t < end)
    result = {
        "first_frame_s": rnd(receiver.first_frame_s, 3),
        "fps": round(frames / (end - start), 2),
        "sent_fps": round(sum(1 for t in video.sent if start <= t < end) / (end - start), 2),
        "video_packets_per_s": round((after["packets"] - before["packets"]) / (end - start), 1),
        "video_packets_lost": after["lost"] - before["lost"],
        "bench_cpu_pct": round(100 * (cpu1 - cpu0) / (end - start), 1),
        "loadavg": loadavg(),
    }
    await receiver.close()
    await sender.close()
    return result


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    own: JanusServer | None = None
    if args.janus_url:
        janus = {
            "url": args.janus_url.rstrip("/"),
            "pid": args.janus_pid,
            "secret": args.janus_admin_secret,
        }
    else:
        own = JanusServer()
        janus = {"url": own.url, "pid": own.pid, "secret": own.secret}
    try:
        say(f"Janus {janus_version(janus['url'])} at {janus['url']} (pid {janus['pid']})")
        p2p = await peer_to_peer(args)
        say(
            f"1:1 peer-to-peer (aiortc ↔ aiortc, loopback, no Janus): first frame {p2p['first_frame_s']} s, "
            f"{p2p['fps']} fps of {p2p['sent_fps']} sent, bench CPU {p2p['bench_cpu_pct']} %"
        )
        room = make_room(janus["url"], janus["secret"], max(args.tiers))
        async with http_client() as client:
            refused = await refused_without_token(client, janus["url"], room["room"])
            say(
                f"room {room['room']} created through opora.events.janus.room_ensure; forged token refused by Janus: {refused}"
            )
            video = synthetic_video(args.width, args.height, args.fps)
            session, pc = await publish_via_janus(
                client, janus["url"], room["room"], room["presenter"], [video, silence()]
            )
            await asyncio.sleep(2.0)  # the encoder settles
            tiers = []
            say(
                f"{'receivers':>9} {'first p50':>9} {'p95':>6} {'max':>6} {'fps p50':>7} {'min':>5} "
                f"{'sent':>5} {'≥90%':>5} {'lost':>5} {'drops':>5} {'Janus CPU':>9} {'bench CPU':>9}  load"
            )
            for n in args.tiers:
                tier = await run_tier(n, args, janus, room, video)
                tiers.append(tier)
                say(
                    f"{n:>9} {tier['first_frame_p50_s']!s:>9} {tier['first_frame_p95_s']!s:>6} "
                    f"{tier['first_frame_max_s']!s:>6} {tier['fps_p50']!s:>7} {tier['fps_min']!s:>5} "
                    f"{tier['sent_fps']:>5} {tier['receivers_at_90pct']:>5} {tier['video_packets_lost']:>5} "
                    f"{tier['udp_receive_buffer_drops']:>5} "
                    f"{tier['janus_cpu_pct']!s:>8}% {tier['bench_cpu_pct']!s:>8}%  {tier['loadavg_after'][0]}"
                    + ("" if tier["holds"] else "   does not hold")
                    + (f"  errors: {tier['errors']}" if tier["errors"] else "")
                )
                if not tier["holds"] and not args.all_tiers:
                    break
                await asyncio.sleep(2.0)
            await pc.close()
            await session.destroy()
        return {
            "janus_version": janus_version(janus["url"]),
            "room_via": "opora.events.janus.room_ensure (in-memory Event: pk and room_secret)",
            "forged_token_refused": refused,
            "peer_to_peer": p2p,
            "tiers": tiers,
        }
    finally:
        if own:
            own.stop()


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "loadavg_start": loadavg(),
        "python": platform.python_version(),
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tiers", default="10,25,50,75,100", help="receivers per tier (10,25,50,75,100)"
    )
    parser.add_argument(
        "--receivers", type=int, default=0, help="only this many receivers (one tier)"
    )
    parser.add_argument(
        "--all-tiers", action="store_true", help="go on after a tier that does not hold"
    )
    parser.add_argument("--window", type=float, default=20.0, help="steady window, seconds (20)")
    parser.add_argument("--stagger", type=float, default=0.1, help="seconds between joins (0.1)")
    parser.add_argument(
        "--processes", type=int, default=os.cpu_count() or 1, help="receiver processes (cores)"
    )
    parser.add_argument(
        "--no-decode",
        action="store_true",
        help="receivers count frames assembled from RTP without decoding them (Janus's limit)",
    )
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--janus-url", default="", help="use this Janus instead of starting one")
    parser.add_argument("--janus-pid", type=int, default=0, help="its process id (for its CPU)")
    parser.add_argument(
        "--janus-admin-secret", default=os.environ.get("OPORA_JANUS_ADMIN_SECRET", "")
    )
    parser.add_argument("--quick", action="store_true", help="smoke: 3 receivers, 5-second window")
    parser.add_argument("--json", action="store_true", help="print the results as JSON last")
    parser.add_argument("--out", default=str(VAR / "janus.json"))
    args = parser.parse_args(argv)
    args.width, args.height = (int(x) for x in args.size.split("x"))
    args.tiers = [int(x) for x in args.tiers.split(",") if x.strip()]
    if args.receivers:
        args.tiers = [args.receivers]
    if args.quick:
        args.tiers, args.window = [3], 5.0
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    QUIET[0] = args.json
    if not args.janus_url and not os.path.exists(JANUS):
        say("bench_janus: no Janus (apt-get install janus, or give --janus-url).")
        return 2
    started = time.monotonic()
    info = machine()
    say(
        f"Group rooms through Janus — {dt.datetime.now():%Y-%m-%d %H:%M}; {info['cpu']}, {info['cores']} cores, "
        f"load average {' '.join(map(str, info['loadavg_start']))}; {args.width}x{args.height} at {args.fps} fps "
        f"VP8 + Opus; window {args.window:.0f} s"
        + ("; receivers do not decode" if args.no_decode else "")
    )
    results = asyncio.run(main_async(args))
    out = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {**info, "loadavg_end": loadavg()},
        "options": {k: v for k, v in vars(args).items() if k not in ("janus_admin_secret",)},
        **results,
        "seconds": round(time.monotonic() - started, 1),
    }
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2))
    say(f"results: {path} ({out['seconds']} s)")
    if args.json:
        print(json.dumps({k: v for k, v in out.items()}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
