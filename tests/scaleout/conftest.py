"""Several web processes on one port with a Redis channel layer, as
`scripts/dev.py run --processes 2` starts them: real daphne processes, a real
redis-server (Debian's, started here on a free port, never the machine's
service) and a throwaway PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from tests.faults.cluster import Cluster, free_port, wait_until
from tests.faults.conftest import Platform

ROOT = Path(__file__).resolve().parents[2]


class RedisServer:
    """A redis-server process of our own on a free port, keeping nothing on disk."""

    def __init__(self):
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            pytest.fail("redis-server is not installed (Debian package redis-server)")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="mge-redis-")
        self.proc = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                self.dir,
                "--save",
                "",
                "--appendonly",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._up, timeout=15, message="redis-server did not start")
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def _up(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def layout_env(database_url: str, redis_url: str, **extra) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "DEBUG",
            "SECRET_KEY",
            "DB_POOL",
            "TEST_DATABASE_NAME",
            "REDIS_URL",
            "CHANNEL_LAYER",
        )
    }
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        MGE_DEV="1",
        MGE_SKIP_JS="1",
        PYTHONUNBUFFERED="1",
        LLM_OFFLINE_FIRST_TOKEN_SECONDS="0.2",
        LLM_OFFLINE_STREAM_DELAY="0.005",
        **extra,
    )
    return env


class Layout(Platform):
    """`scripts/dev.py run --processes N` on its own database and Redis."""

    start_timeout = 420  # a fresh database is migrated first; on a loaded 2-core machine that takes minutes

    def __init__(self, processes: int = 2, **extra_env):
        self.processes = processes
        self.redis = RedisServer()
        super().__init__(
            "--processes",
            str(processes),
            cluster=Cluster("scaleout"),
            env_for=lambda url: layout_env(url, self.redis.url, **extra_env),
        )

    def wait_for_processes(self) -> None:
        wait_until(lambda: len(self.web_pids()) == self.processes, timeout=30, message="web processes missing")

    def web_pids(self) -> list[int]:
        pids = []
        for child in self.children():
            try:
                if "config.asgi:application" in " ".join(child.cmdline()):  # daphne or uvicorn
                    pids.append(child.pid)
            except psutil.Error:
                pass
        return pids

    def stop(self) -> None:
        super().stop()
        self.redis.stop()


@pytest.fixture(scope="session")  # started once for every test here: it migrates a fresh database
def layout():
    started = time.monotonic()
    running = Layout(processes=2)
    print(f"\n2 web processes + Redis up in {time.monotonic() - started:.1f}s on {running.base}")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def redis_server():
    server = RedisServer()
    try:
        yield server
    finally:
        server.stop()
