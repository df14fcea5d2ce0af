"""Smoke of bench/bench_janus.py (issue 14, `make bench --only janus`): a presenter and two aiortc
receivers in a room Opora's own code created on a real Janus; every receiver decodes frames.

Skips when the janus binary is absent or aiortc is not installed (dev extra). About 15 s: no
timing is asserted, only that frames arrive through Janus and a forged token is refused."""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
JANUS = shutil.which("janus") or ("/usr/bin/janus" if os.path.exists("/usr/bin/janus") else None)


@pytest.fixture
def bench(monkeypatch):
    if JANUS is None:
        pytest.skip("the janus binary is absent (apt-get install janus; make test installs it)")
    pytest.importorskip("aiortc", reason="aiortc (the dev extra) is not installed")
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    # make_room points opora.events.janus at the bench's own Janus: undone after the test.
    monkeypatch.setenv("OPORA_JANUS_URL", "")
    monkeypatch.setenv("OPORA_JANUS_ADMIN_SECRET", "")
    import bench_janus  # type: ignore[import-not-found]  # bench/, on the path above

    return bench_janus


def test_receivers_decode_frames_through_janus(bench):
    args = argparse.Namespace(
        processes=1,
        stagger=0.1,
        window=2.0,
        width=160,
        height=120,
        fps=15,
        tiers=[2],
        no_decode=False,
    )

    async def scenario():
        server = bench.JanusServer()
        janus = {"url": server.url, "pid": server.pid}
        try:
            room = bench.make_room(server.url, server.secret, 2)
            async with bench.http_client() as client:
                refused = await bench.refused_without_token(client, server.url, room["room"])
                video = bench.synthetic_video(args.width, args.height, args.fps)
                session, pc = await bench.publish_via_janus(
                    client, server.url, room["room"], room["presenter"], [video, bench.silence()]
                )
                try:
                    tier = await bench.run_tier(2, args, janus, room, video)
                finally:
                    await pc.close()
                    await session.destroy()
            return refused, tier
        finally:
            server.stop()

    # In a thread of its own: a browser test earlier in the same run (Playwright's sync API)
    # leaves an event loop running in this one, where asyncio.run() refuses to start.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        refused, tier = pool.submit(asyncio.run, scenario()).result()
    assert refused is True
    assert tier["without_frames"] == 0, tier["errors"]
    assert [r["receiver"] for r in tier["per_receiver"]] == [0, 1]
    assert all(r["fps"] > 0 and r["packets_per_s"] > 0 for r in tier["per_receiver"])
    assert tier["janus_cpu_pct"] is not None
