"""Two web processes on one port with the Redis channel layer: an idle
interview socket is not closed by the layer, a burst of messages reaches
every tab (whichever process holds it), and a burst of handshakes all
succeed."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.faults.participant import Participant
from tests.scaleout.conftest import ROOT

pytestmark = pytest.mark.slow

ANSWER = "I care that a child learns to follow through on things that matter to them, not just obey."
# A participant thinking for a minute (redis-py 8's default 5 s socket timeout once closed such sockets with 1011).
IDLE_SECONDS = float(os.environ.get("SCALEOUT_IDLE_SECONDS", "60"))


def test_idle_interview_socket_stays_open_then_gets_the_next_reply(layout):
    person = Participant(layout.base, "idle-tab")
    person.join()
    person.open()
    started = time.monotonic()
    with pytest.raises(TimeoutError):  # nothing to receive; a closed socket raises ConnectionClosed instead
        person.recv(timeout=IDLE_SECONDS)
    assert time.monotonic() - started >= IDLE_SECONDS - 0.5
    frames = person.say(ANSWER, "idle-1", timeout=30)
    assert frames[-1]["message"]["content"]
    person.close()


def test_every_tab_gets_every_frame_of_a_burst_across_processes(layout):
    """Thirty participants with two tabs each answer at once. Each tab must
    see its participant's message, the whole streamed reply (deltas that add
    up to the saved reply) and message_complete: nothing dropped at capacity,
    nothing lost between the processes."""
    people = [Participant(layout.base, f"burst-{i}") for i in range(30)]
    for person in people:
        person.join()

    async def tab(person, sender: bool):
        from websockets.asyncio.client import connect

        url = layout.base.replace("http://", "ws://") + f"/ws/s/{person.slug}/interview/"
        async with connect(
            url, origin=layout.base, additional_headers={"Cookie": f"sessionid={person.session}"}, open_timeout=30
        ) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "state"
            connected.append(person)
            if len(connected) == 2 * len(people):
                ready.set()
            await ready.wait()
            if sender:
                await ws.send(json.dumps({"type": "user_message", "text": ANSWER, "client_id": "b1"}))
            seen, text = [], []
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                seen.append(frame["type"])
                if frame["type"] == "delta":
                    text.append(frame["text"])
                if frame["type"] == "message_complete":
                    return seen, "".join(text), frame["message"]["content"]

    async def run():
        tasks = []
        for person in people:
            tasks += [asyncio.create_task(tab(person, True)), asyncio.create_task(tab(person, False))]
        return await asyncio.gather(*tasks)

    ready = asyncio.Event()  # set once every tab has its snapshot
    connected = []
    results = asyncio.run(run())
    assert len(results) == 60
    for seen, streamed, saved in results:
        assert "message" in seen and "reply_started" in seen
        assert streamed == saved, "a streamed delta was lost"
        assert saved


def test_a_burst_of_handshakes_all_succeed(layout):
    """500 websockets opened at once, each of which must get its snapshot."""
    with ThreadPoolExecutor(max_workers=8) as pool:  # joining (consent, question) is HTTP, not what is tested
        people = list(pool.map(lambda i: Participant(layout.base, f"hs-{i}"), range(500)))
        list(pool.map(lambda person: person.join(), people))

    async def one(person):
        from websockets.asyncio.client import connect

        url = layout.base.replace("http://", "ws://") + f"/ws/s/{person.slug}/interview/"
        async with connect(
            url, origin=layout.base, additional_headers={"Cookie": f"sessionid={person.session}"}, open_timeout=30
        ) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), 30))["type"]

    async def run():
        return await asyncio.gather(*(one(p) for p in people), return_exceptions=True)

    results = asyncio.run(run())
    failures = [r for r in results if r != "state"]
    assert not failures, failures[:3]


LAYER_BURST = """
import asyncio, django, sys
django.setup()
from channels.layers import get_channel_layer

async def main():
    layer = get_channel_layer()
    receiver = await layer.new_channel()
    await layer.group_add("burst", receiver)
    await asyncio.sleep(0.2)
    n = int(sys.argv[1])
    for start in range(0, n, 100):  # 100 sends in flight at a time, as 100 streaming replies would
        await asyncio.gather(*(layer.group_send("burst", {"type": "x", "i": i}) for i in range(start, start + 100)))
    got = set()
    try:
        while len(got) < n:
            got.add((await asyncio.wait_for(layer.receive(receiver), 5))["i"])
    except asyncio.TimeoutError:
        pass
    print(type(layer).__name__, len(got))

asyncio.run(main())
"""


def _layer_burst(redis_url: str, n: int, **env) -> tuple[str, int]:
    environ = {k: v for k, v in os.environ.items() if k not in ("CHANNEL_LAYER",)}
    environ.update(DJANGO_SETTINGS_MODULE="config.settings_test", REDIS_URL=redis_url, **env)
    result = subprocess.run(
        [sys.executable, "-c", LAYER_BURST, str(n)], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    name, count = result.stdout.split()[-2:]
    return name, int(count)


def test_the_configured_layer_delivers_a_burst_of_2000_group_messages(redis_server):
    assert _layer_burst(redis_server.url, 2000) == ("RedisPubSubChannelLayer", 2000)


def test_benchmark_smoke_20_interviews_over_two_processes_without_errors(layout):
    """bench/interview_load.py against the running layout (--url): 20 whole
    interviews (four answers, card, submit) with 0 errors."""
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_case_study", "--slug", "bench-load"],
        cwd=ROOT,
        env=layout.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    result = subprocess.run(
        [
            sys.executable,
            "bench/interview_load.py",
            "-n",
            "20",
            "--think",
            "0.3",
            "--llm-latency",
            "0.2",
            "--url",
            layout.base,
        ],
        cwd=ROOT,
        env=layout.env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "completed: 20/20   errors: 0" in result.stdout
