"""Start the platform for a benchmark: `scripts/dev.py run` on a free port,
on its own embedded database (var/bench-pgdata) so benchmark participants
never mix with the demo study's data."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_env(**overrides) -> dict:
    return {
        **os.environ,
        "MGE_DEV": "1",
        "MGE_PGDATA": str(ROOT / "var" / "bench-pgdata"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **overrides,
    }


@contextlib.contextmanager
def redis_server():
    """A throwaway redis-server (Debian's) on a free port; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxclients",
            "10000",
            "--tcp-backlog",
            "4096",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def web_processes(server: subprocess.Popen) -> list:
    """The web server processes under a `scripts/dev.py run` (psutil objects)."""
    import psutil

    found = []
    for child in psutil.Process(server.pid).children(recursive=True):
        try:
            cmd = " ".join(child.cmdline())
            if "config.asgi:application" in cmd:
                found.append(child)
        except psutil.Error:
            pass
    return found


@contextlib.contextmanager
def running_platform(
    env: dict,
    log_name: str = "bench-server.log",
    processes: int = 1,
    with_server: bool = False,
    server_kind: str = "uvicorn",
):
    """Yield the base URL of a running platform (`scripts/dev.py run
    --processes N`); stop it afterwards. with_server: yield (base, Popen)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = ROOT / "var" / log_name
    log_path.parent.mkdir(exist_ok=True)
    print(f"server log: {log_path}")
    with open(log_path, "w") as log:
        layout = (["--processes", str(processes)] if processes > 1 else []) + ["--server", server_kind]
        server = subprocess.Popen(
            [sys.executable, "scripts/dev.py", "run", "--port", str(port), *layout],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.time() + 180
            while True:
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=2)
                    break
                except OSError:
                    if time.time() > deadline or server.poll() is not None:
                        raise RuntimeError(f"the platform did not start; see {log_path}")
                    time.sleep(0.5)
            yield (base, server) if with_server else base
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
