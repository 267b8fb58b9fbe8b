"""`manage.py run_worker`: procrastinate's worker, kept running.

procrastinate's worker stops (with exit code 0) when it loses the database,
and a killed worker is simply gone. This command runs `manage.py
procrastinate worker` as a child and starts it again whenever it ends
without being asked to, waiting 1, 2, 4 ... up to RESTART_BACKOFF_MAX_SECONDS
between attempts (back to 1 s after a child that ran for a minute), so a
database restart or a crash costs a pause, not the worker. Each start also
queues the recovery job a little after a dead worker's heartbeat has gone
stale, so jobs it was running go back in the queue.

SIGINT/SIGTERM stop the child gracefully (running jobs finish) and then this
command, with exit code 0. Extra arguments go to the worker, e.g.
`manage.py run_worker -- --concurrency 2`.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections

from mgeplatform import jobs

HEALTHY_SECONDS = 60  # a child that ran this long resets the backoff


def _die_with_parent():
    # The child has its own process group (so a terminal's Ctrl-C reaches it
    # once, through us), which also means it would outlive us if we were
    # killed outright; on Linux it is told to stop when we go.
    os.setpgrp()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Command(BaseCommand):
    help = "Run the background worker and restart it with backoff whenever it stops unasked."

    def add_arguments(self, parser):
        parser.add_argument("worker_args", nargs="*", help="passed to `manage.py procrastinate worker`")
        parser.add_argument(
            "--max-backoff",
            type=float,
            default=float(os.environ.get("RESTART_BACKOFF_MAX_SECONDS", 30)),
            help="longest wait between restarts, in seconds (default 30)",
        )
        parser.add_argument(
            "--max-restarts", type=int, default=None, help="give up after this many restarts in a row (default: never)"
        )

    def handle(self, *args, worker_args, max_backoff, max_restarts, **options):
        self.stopping = False
        self.child: subprocess.Popen | None = None
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "procrastinate", "worker", *worker_args]
        backoff, restarts = 1.0, 0
        while not self.stopping:
            self._queue_recovery()
            started = time.monotonic()
            self.child = subprocess.Popen(command, cwd=settings.BASE_DIR, preexec_fn=_die_with_parent)
            self._log(f"worker started (pid {self.child.pid})")
            code = self._wait_child()
            if self.stopping:
                break
            if time.monotonic() - started >= HEALTHY_SECONDS:
                backoff, restarts = 1.0, 0
            restarts += 1
            if max_restarts is not None and restarts > max_restarts:
                self._log(f"worker exited with {code}; giving up after {max_restarts} restarts")
                return
            self._log(f"worker exited with {code} (database gone, or killed); restarting in {backoff:.0f}s")
            self._sleep(backoff)
            backoff = min(backoff * 2, max_backoff)
        self._log("stopped")

    def _stop(self, signum, frame):
        if self.stopping:
            return  # a second signal (terminal and supervisor both) must not abort running jobs
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)

    def _wait_child(self) -> int:
        while True:
            try:
                return self.child.wait()  # type: ignore[union-attr]  # called once the child is started
            except InterruptedError:
                continue

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.2, deadline - time.monotonic()))

    def _queue_recovery(self) -> None:
        # After the stale window a worker that died before this start counts
        # as gone, and its jobs can be queued again.
        jobs.schedule_recovery(settings.WORKER_STALLED_SECONDS + settings.WORKER_HEARTBEAT_SECONDS)
        connections.close_all()
        if hasattr(connections["default"], "close_pool"):
            connections["default"].close_pool()  # this process holds no connections between starts

    def _log(self, message: str) -> None:
        self.stderr.write(f"[run_worker] {message}")
