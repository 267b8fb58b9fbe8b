"""The platform for the fault tests: `scripts/dev.py run` (web server and
supervised worker, as a developer starts it) on a throwaway PostgreSQL that
the tests stop, start and kill processes under. Timeouts are short so the
suite takes about a minute and a half."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import procrastinate
import psutil
import pytest

from tests.faults.cluster import Cluster, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]

# Short versions of the production timings (README, "Configuration").
TIMINGS = {
    "INTERVIEW_REPLY_STALE_SECONDS": "12",  # long enough that a restarted server finds the dead reply still fresh
    "LLM_OFFLINE_STREAM_DELAY": "0",
    "LLM_OFFLINE_FIRST_TOKEN_SECONDS": "1",  # every model call takes a second: time to kill mid-reply, mid-job
    "WORKER_HEARTBEAT_SECONDS": "0.5",
    "WORKER_STALLED_SECONDS": "2",
    "RESTART_BACKOFF_MAX_SECONDS": "2",
    "DB_POOL_TIMEOUT": "10",
}


def platform_env(database_url: str) -> dict:
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
        )
    }
    env.update(
        TIMINGS,
        DATABASE_URL=database_url,
        MGE_DEV="1",
        MGE_SKIP_JS="1",
        PYTHONUNBUFFERED="1",
        PROCRASTINATE_LOG_LEVEL="INFO",
    )
    return env


def _ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Platform:
    """`scripts/dev.py run` (plus `run_args`) on a throwaway PostgreSQL;
    `env_for(database_url)` gives the processes' environment."""

    start_timeout = 180

    def __init__(
        self, *run_args: str, cluster: Cluster | None = None, env_for=platform_env, sigint_ignored: bool = False
    ):
        self.cluster = cluster or Cluster()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = env_for(self.cluster.url())
        self.log_path = self.cluster.root / "platform.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "scripts/dev.py", "run", "--port", str(self.port), *run_args],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            # as a shell script's `cmd &` starts it
            preexec_fn=_ignore_sigint if sigint_ignored else None,
        )
        try:
            wait_until(self.healthy, timeout=self.start_timeout, interval=0.5, message="the platform did not start")
            self.wait_for_processes()
        except BaseException:
            print(self.tail())
            self.stop()
            raise

    def wait_for_processes(self) -> None:
        wait_until(lambda: self.worker_pid() is not None, timeout=30, message="no worker started")

    def healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"scripts/dev.py run exited with {self.proc.returncode}:\n{self.tail()}")
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=3) as r:
                return r.status == 200
        except OSError:
            return False

    def children(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def _pid(self, *words) -> int | None:
        for child in self.children():
            try:
                cmd = " ".join(child.cmdline())
            except psutil.Error:
                continue
            if all(w in cmd for w in words):
                return child.pid
        return None

    def web_pid(self) -> int | None:
        return self._pid("config.asgi:application")  # daphne or uvicorn

    def worker_pid(self) -> int | None:
        """The procrastinate worker itself (the child of manage.py run_worker)."""
        return self._pid("manage.py", "procrastinate", "worker")

    def defer(self, task_name: str, **kwargs) -> int:
        """Queue a job as the web process or an admin action does (by name,
        straight into the platform's database)."""
        app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=self.cluster.url()))
        with app.open():
            return app.configure_task(task_name).defer(**kwargs)

    def job_status(self, job_id: int) -> str:
        return self.cluster.query("SELECT status FROM procrastinate_jobs WHERE id = %s", job_id)[0][0]

    def manage(self, *args: str, timeout: float = 60) -> str:
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def tail(self, lines: int = 60) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        left = self.children()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # as a service manager stops it
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for child in left:  # only processes this fixture started
            try:
                child.kill()
            except psutil.Error:
                pass
        self.log.close()
        self.cluster.destroy()


@pytest.fixture(scope="module")
def platform():
    started = time.monotonic()
    running = Platform()
    print(f"\nplatform up in {time.monotonic() - started:.1f}s on {running.base}")
    try:
        yield running
    finally:
        running.stop()
