#!/usr/bin/env python3
"""How fast can participants arrive? A Prolific launch sends hundreds at once.

Starts the platform with `scripts/dev.py run` on a free port (or uses --url),
then N simulated browsers each open a new Prolific link (new participant,
follow the redirect to the consent page) and accept consent, at 1, 2, 4 and 8
concurrent clients. Prints arrivals per second and latency percentiles.

    .venv/bin/python bench/entry_burst.py --arrivals 200
"""

from __future__ import annotations

import argparse
import http.cookiejar
import re
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from platform_server import bench_env, running_platform

ROOT = Path(__file__).resolve().parent.parent


def arrive(base: str, slug: str) -> float:
    """One participant: Prolific link → consent page → accept. Returns seconds."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    pid = uuid.uuid4().hex[:24]
    start = time.perf_counter()
    with opener.open(f"{base}/s/{slug}/?PROLIFIC_PID={pid}&STUDY_ID=bench&SESSION_ID={pid}", timeout=30) as r:
        html = r.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    consent_hash = re.search(r'name="consent_hash" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "consent_hash": consent_hash, "choice": "accept"})
    req = urllib.request.Request(f"{base}/s/{slug}/consent/", data=data.encode(), headers={"Referer": f"{base}/"})
    with opener.open(req, timeout=30) as r:
        r.read()
        assert r.geturl().endswith("/journey/"), r.geturl()
    return time.perf_counter() - start


def burst(base: str, slug: str, arrivals: int, concurrency: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = iter(range(arrivals))

    def worker():
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            try:
                elapsed = arrive(base, slug)
                with lock:
                    latencies.append(elapsed)
            except Exception as exc:  # count, keep going
                with lock:
                    errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()
    pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {
        "concurrency": concurrency,
        "ok": len(latencies),
        "errors": len(errors),
        "per_s": len(latencies) / wall,
        "p50": pct(0.5),
        "p95": pct(0.95),
        "mean": statistics.mean(latencies) * 1000,
    }


def report(base: str, args) -> None:
    arrive(base, args.slug)  # warm-up
    print(f"{'clients':>7} {'arrivals/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'ok':>5} {'errors':>6}")
    for level in [int(x) for x in args.levels.split(",")]:
        r = burst(base, args.slug, args.arrivals, level)
        print(
            f"{r['concurrency']:>7} {r['per_s']:>10.1f} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['ok']:>5} {r['errors']:>6}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an already running platform, e.g. http://127.0.0.1:8000")
    parser.add_argument("--slug", default="case-study")
    parser.add_argument("--arrivals", type=int, default=200)
    parser.add_argument("--levels", default="1,2,4,8")
    args = parser.parse_args()

    if args.url:
        report(args.url, args)
    else:
        with running_platform(bench_env(), "bench-entry-server.log") as base:
            report(base, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
