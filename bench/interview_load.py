#!/usr/bin/env python3
"""N concurrent interviews over real websockets against a daphne server.

The server runs the offline interviewer as a stand-in LLM that waits
--llm-latency seconds before its first token and then streams one word every
--word-delay seconds, so what is measured is what the platform adds.

Each simulated participant opens the study link, consents, picks a scenario,
connects the interview websocket, sends four answers (waiting --think
seconds before each), receives the card and submits it. Printed:

  platform-added latency per turn: time from sending a message to its first
    streamed word, minus the stand-in LLM's first-token latency (p50, p99);
  frames/s received over the run; errors; completed interviews; and the
  input tokens the interviewer and card writer consumed per completed
  interview (from the LLMCall records).

Layouts: --processes N starts `scripts/dev.py run --processes N` (N web
processes on one port, daphne or with --server uvicorn; above 1 with a Redis
channel layer), --redis gives
even one process the Redis layer, --layer picks the Redis layer (pubsub, the
default, or list). --url BASE (repeatable) targets servers already running
instead (their database must hold the --slug study: `manage.py
seed_case_study --slug bench-load`); participants are dealt round-robin over
the URLs. With a started layout, the CPU time each web process used is read
at the end: CPU per turn per process is that process's CPU seconds divided
by the turns it served (turns / N, as the kernel spreads connections).

--idle M also opens M interview tabs before the run and holds them open,
idle, until it ends; each must then still answer a ping (errors otherwise).

--handshakes-only opens all N websockets at once (after joining N
participants over HTTP) and counts failed handshakes, instead of running
interviews.

    .venv/bin/python bench/interview_load.py -n 50
    .venv/bin/python bench/interview_load.py -n 500 --processes 2
    .venv/bin/python bench/interview_load.py -n 500 --handshakes-only --processes 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar
import random
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from platform_server import ROOT, bench_env, redis_server, running_platform, web_processes

ANSWERS = [
    "Kids need discipline, you should be firm.",
    "I care that a child learns to follow through on things that matter to them, not just obey.",
    "When my daughter struggled with piano I noticed she practised when she chose the piece herself.",
    "I paid attention to what lit her up and to small signs she was proud of her own effort.",
]


def join(base: str, slug: str) -> str:
    """Study link → consent → scenario. Returns the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    pid = uuid.uuid4().hex[:24]

    def post(url, html, fields):
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        with opener.open(urllib.request.Request(url, data=data, headers={"Referer": base + "/"}), timeout=60) as r:
            return r.read().decode()

    with opener.open(f"{base}/s/{slug}/?PROLIFIC_PID={pid}&STUDY_ID=load&SESSION_ID={pid}", timeout=60) as r:
        html = r.read().decode()
    consent_hash = re.search(r'name="consent_hash" value="([^"]+)"', html).group(1)
    html = post(f"{base}/s/{slug}/consent/", html, {"choice": "accept", "consent_hash": consent_hash})
    scenario = re.search(r'name="scenario" value="(\d+)"', html).group(1)
    post(f"{base}/s/{slug}/scenario/", html, {"scenario": scenario})
    return next(c.value for c in jar if c.name == "sessionid")


class Stats:
    def __init__(self):
        self.added_ms: list[float] = []
        self.frames = 0
        self.errors: list[str] = []
        self.completed = 0


async def interview(ws_url: str, origin: str, cookie: str, stats: Stats, think: float, llm_latency: float):
    from websockets.asyncio.client import connect

    async with connect(
        ws_url, origin=origin, additional_headers={"Cookie": f"sessionid={cookie}"}, open_timeout=60, max_size=2**22
    ) as ws:
        import json

        async def next_frame():
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=120))
            stats.frames += 1
            if frame["type"] == "error":
                raise RuntimeError(f"error frame: {frame['code']}")
            return frame

        await next_frame()  # state
        card_seen = False
        for i, answer in enumerate(ANSWERS):
            await asyncio.sleep(think * random.uniform(0.5, 1.5))
            sent = time.perf_counter()
            await ws.send(json.dumps({"type": "user_message", "text": answer, "client_id": f"a{i}"}))
            first_delta = None
            while True:
                frame = await next_frame()
                if frame["type"] == "delta" and first_delta is None:
                    first_delta = time.perf_counter()
                    stats.added_ms.append((first_delta - sent - llm_latency) * 1000)
                card_seen = card_seen or frame["type"] == "card_shown"
                # The last answer triggers the card and a second streamed reply.
                if (
                    frame["type"] == "message_complete"
                    and (i < len(ANSWERS) - 1 or card_seen)
                    and (i < len(ANSWERS) - 1 or frame["message"]["content"].startswith("This card"))
                ):
                    break
        await ws.send(json.dumps({"type": "submit"}))
        while (await next_frame())["type"] != "submitted":
            pass
        stats.completed += 1


async def idle_socket(ws_url: str, origin: str, cookie: str, settle, done: asyncio.Event, counts: dict):
    """A tab left open on the interview: it connects, gets its snapshot,
    receives nothing while the others talk, and must still answer a ping
    once they are done."""
    from websockets.asyncio.client import connect

    async with connect(
        ws_url, origin=origin, additional_headers={"Cookie": f"sessionid={cookie}"}, open_timeout=60, max_size=2**22
    ) as ws:
        import json

        assert json.loads(await asyncio.wait_for(ws.recv(), timeout=60))["type"] == "state"
        counts["open"] += 1
        settle()
        await done.wait()
        await ws.send(json.dumps({"type": "ping"}))
        while json.loads(await asyncio.wait_for(ws.recv(), timeout=30))["type"] != "pong":
            pass
        counts["answered"] += 1


async def run_load(
    bases: list[str],
    slug: str,
    cookies: list[tuple[str, str]],
    think: float,
    llm_latency: float,
    idle: list[tuple[str, str]] = (),
) -> tuple[Stats, float]:
    """The interviews; with `idle`, those tabs are opened first and held
    open (idle) until every interview is over."""
    stats = Stats()
    opened, done = asyncio.Event(), asyncio.Event()
    stats.idle = {"wanted": len(idle), "open": 0, "answered": 0}

    def url(base):
        return base.replace("http", "ws", 1) + f"/ws/s/{slug}/interview/"

    async def one(base, cookie):
        try:
            await interview(url(base), base, cookie, stats, think, llm_latency)
        except Exception as exc:
            stats.errors.append(f"{type(exc).__name__}: {exc}"[:200])

    settled = [0]

    def settle():  # every idle tab has opened, or failed to
        settled[0] += 1
        if settled[0] == len(idle):
            opened.set()

    async def held(base, cookie):
        mine = []

        def settle_once():
            if not mine:
                mine.append(True)
                settle()

        try:
            await idle_socket(url(base), base, cookie, settle_once, done, stats.idle)
        except Exception as exc:
            stats.errors.append(f"idle tab: {type(exc).__name__}: {exc}"[:200])
            settle_once()  # if it never opened

    holders = [asyncio.create_task(held(base, c)) for base, c in idle]
    if idle:
        await asyncio.wait_for(opened.wait(), timeout=600)
        print(f"idle tabs open: {stats.idle['open']}/{len(idle)}", flush=True)
    start = time.perf_counter()
    await asyncio.gather(*(one(base, c) for base, c in cookies))
    wall = time.perf_counter() - start
    done.set()
    await asyncio.gather(*holders)
    return stats, wall


async def handshake_burst(slug: str, cookies: list[tuple[str, str]], hold: float) -> tuple[int, list[str], float]:
    """Open every websocket at once; count handshakes that fail or do not
    bring the state snapshot within 60 s. Returns (ok, errors, seconds until
    the last snapshot)."""
    from websockets.asyncio.client import connect

    errors: list[str] = []
    ok = 0
    start = time.perf_counter()
    last = [0.0]
    release = asyncio.Event()

    async def one(base, cookie):
        nonlocal ok
        url = base.replace("http", "ws", 1) + f"/ws/s/{slug}/interview/"
        try:
            async with connect(
                url, origin=base, additional_headers={"Cookie": f"sessionid={cookie}"}, open_timeout=60, max_size=2**22
            ) as ws:
                import json

                frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
                if frame["type"] != "state":
                    raise RuntimeError(f"first frame {frame['type']}")
                ok += 1
                last[0] = time.perf_counter() - start
                await release.wait()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:200])

    tasks = [asyncio.create_task(one(b, c)) for b, c in cookies]
    while sum(1 for t in tasks if not t.done()) and ok + len(errors) < len(tasks):
        await asyncio.sleep(0.2)
    await asyncio.sleep(hold)
    release.set()
    await asyncio.gather(*tasks)
    return ok, errors, last[0]


def tokens_per_interview(env: dict) -> float | None:
    code = (
        "import django,statistics; django.setup();"
        "from django.db.models import Sum; from mgeplatform.models import LLMCall;"
        "from studies.models import Study;"
        "rows=LLMCall.objects.filter(study_id=Study.objects.get(slug='bench-load').pk, "
        "purpose__in=['interview.reply','interview.articulate'])"
        ".values('participant').annotate(t=Sum('input_tokens'));"
        "print(statistics.mean(r['t'] for r in rows) if rows else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    try:
        return float(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def cpu_seconds(procs) -> list[float]:
    out = []
    for proc in procs:
        try:
            t = proc.cpu_times()
            out.append(t.user + t.system)
        except Exception:  # a process that died: no figure
            out.append(float("nan"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=50, help="concurrent interviews")
    parser.add_argument("--think", type=float, default=2.0, help="seconds a participant takes before each answer")
    parser.add_argument("--llm-latency", type=float, default=0.5, help="stand-in LLM first-token latency (s)")
    parser.add_argument("--word-delay", type=float, default=0.02, help="stand-in LLM seconds per streamed word")
    parser.add_argument("--processes", type=int, default=1, help="web processes to start (scripts/dev.py run)")
    parser.add_argument("--redis", action="store_true", help="Redis channel layer even for one process")
    parser.add_argument(
        "--server",
        choices=["daphne", "uvicorn"],
        default="uvicorn",
        help="the ASGI server the started web processes run",
    )
    parser.add_argument("--layer", choices=["pubsub", "list"], default="pubsub", help="which Redis channel layer")
    parser.add_argument("--url", action="append", default=[], help="a running server instead (repeatable)")
    parser.add_argument("--slug", default="bench-load", help="the study participants join")
    parser.add_argument(
        "--handshakes-only", action="store_true", help="open all N websockets at once and count failed handshakes"
    )
    parser.add_argument(
        "--idle",
        type=int,
        default=0,
        help="also hold this many interview tabs open and idle through the run (each must "
        "still answer a ping at the end)",
    )
    parser.add_argument("--hold", type=float, default=0.0, help="with --handshakes-only: seconds to keep them open")
    args = parser.parse_args()

    env = bench_env(
        LLM_DEFAULT_PROVIDER="offline",
        LLM_OFFLINE_FIRST_TOKEN_SECONDS=str(args.llm_latency),
        LLM_OFFLINE_STREAM_DELAY=str(args.word_delay),
        CHANNEL_LAYER=args.layer,
    )
    with contextlib.ExitStack() as stack:
        procs = []
        if args.url:
            bases = [u.rstrip("/") for u in args.url]
            layout = f"{len(bases)} running server(s)"
        else:
            if args.redis and not env.get("REDIS_URL"):
                env["REDIS_URL"] = stack.enter_context(redis_server())
            base, server = stack.enter_context(
                running_platform(env, processes=args.processes, with_server=True, server_kind=args.server)
            )
            bases = [base]
            subprocess.run(
                [sys.executable, "manage.py", "seed_case_study", "--slug", args.slug],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
            deadline = time.time() + 60
            while len(procs := web_processes(server)) < args.processes and time.time() < deadline:
                time.sleep(0.5)
            redis = "Redis " + args.layer if args.redis or args.processes > 1 or env.get("REDIS_URL") else "in-memory"
            layout = f"{args.processes} {args.server} web process(es), {redis} channel layer"
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            cookies = list(
                pool.map(
                    lambda i: (bases[i % len(bases)], join(bases[i % len(bases)], args.slug)), range(args.n + args.idle)
                )
            )
        cookies, idle = cookies[: args.n], cookies[args.n :]
        print(f"layout: {layout}")
        print(f"joined {args.n + args.idle} participants over HTTP in {time.perf_counter() - started:.1f}s")
        cpu_before = cpu_seconds(procs)
        if args.handshakes_only:
            ok, errors, took = asyncio.run(handshake_burst(args.slug, cookies, args.hold))
            print(
                f"websocket handshakes at once: {args.n}   ok: {ok}   failed: {len(errors)} "
                f"({100 * len(errors) / args.n:.1f} %)   last snapshot after {took:.1f}s"
            )
            for error in sorted(set(errors))[:5]:
                print("  error:", error)
            return 0 if not errors else 1
        stats, wall = asyncio.run(run_load(bases, args.slug, cookies, args.think, args.llm_latency, idle))
        cpu = [after - before for before, after in zip(cpu_before, cpu_seconds(procs), strict=True)]
        tokens = tokens_per_interview(env) if not args.url else None
        print(
            f"concurrent interviews: {args.n}   stand-in LLM: {args.llm_latency * 1000:.0f} ms to first word, "
            f"{args.word_delay * 1000:.0f} ms per word   think time: {args.think}s"
        )
        print(f"completed: {stats.completed}/{args.n}   errors: {len(stats.errors)}   wall: {wall:.1f}s")
        print(
            f"platform-added latency to first word (ms): p50 {pct(stats.added_ms, 0.5):.1f}   "
            f"p99 {pct(stats.added_ms, 0.99):.1f}   max {max(stats.added_ms, default=float('nan')):.1f}   "
            f"(turns: {len(stats.added_ms)})"
        )
        print(f"frames received: {stats.frames}   frames/s: {stats.frames / wall:.0f}")
        if idle:
            print(f"idle tabs: {len(idle)}   open through the run and answering at the end: {stats.idle['answered']}")
        turns = len(stats.added_ms)
        if cpu and turns:
            per_process = "   ".join(
                f"p{i + 1}: {c:.1f}s, {1000 * c / (turns / len(cpu)):.1f} ms/turn" for i, c in enumerate(cpu)
            )
            print(f"web CPU: {sum(cpu):.1f}s in all, {1000 * sum(cpu) / turns:.1f} ms per turn   ({per_process})")
        if tokens is not None:
            print(f"interviewer + card-writer input tokens per interview (offline estimate): {tokens:.0f}")
        for error in sorted(set(stats.errors))[:5]:
            print("  error:", error)
    return 0 if not stats.errors else 1


if __name__ == "__main__":
    sys.exit(main())
