"""Advisory locks that outlive Django's connection handling.

A long job (story generation, batch deduplication) calls models between
its queries, and the LLM gateway hands Django's connection back to the
pool after each call, so a session lock taken on that connection would
stay with whichever pooled connection took it, and the unlock would run on
another one: the study stays locked until that pooled connection closes.
The lock therefore lives on a connection of its own, held for the job;
if the process dies the connection drops and Postgres releases the lock.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import psycopg
from django.db import connections
from django.utils import timezone


def conninfo(alias: str = "default") -> dict:
    """Connection parameters for a psycopg connection of our own, outside Django's."""
    s = connections[alias].settings_dict
    params = {
        "dbname": s["NAME"],
        "user": s.get("USER") or None,
        "password": s.get("PASSWORD") or None,
        "host": s.get("HOST") or None,
        "port": s.get("PORT") or None,
    }
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "options"):
        if key in s.get("OPTIONS", {}):
            params[key] = s["OPTIONS"][key]
    return {k: v for k, v in params.items() if v is not None}


@contextlib.contextmanager
def try_advisory_lock(namespace: int, key: int, *, alias: str = "default"):
    """Yield True if this process now holds the lock (namespace, key), False
    if another holder has it. Released when the block ends."""
    with psycopg.connect(**conninfo(alias), autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (namespace, key)).fetchone()
        acquired = row[0]  # type: ignore[index]  # a SELECT of a function always returns one row
        try:
            yield acquired
        finally:
            if acquired and not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (namespace, key))


def advisory_lock_held(namespace: int, key: int, *, alias: str = "default") -> bool:
    """Whether any session holds the lock (namespace, key) now. Reading
    pg_locks never takes the lock, so a run about to start is not refused."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s AND objid = %s AND objsubid = 2)",
            [namespace, key],
        )
        return cursor.fetchone()[0]


def fail_orphaned_runs(model, namespace: int, reason: str, *, min_age_seconds: float = 5) -> int:
    """Mark failed, with `reason`, the runs of `model` (a per-study run record
    with status, study, started_at, finished_at and error) still marked
    running that no process runs: their study's advisory lock (namespace,
    study id) is free, as Postgres drops it with a dead process's
    connection. A run younger than `min_age_seconds` may not have taken the
    lock yet and is left alone (were one caught anyway, its own finish sets
    it right)."""
    cutoff = timezone.now() - timedelta(seconds=min_age_seconds)
    stuck = model.objects.filter(status=model.Status.RUNNING, started_at__lt=cutoff)
    failed = 0
    for study_id in set(stuck.values_list("study_id", flat=True)):
        if not advisory_lock_held(namespace, study_id):
            failed += mark_runs_failed(stuck.filter(study_id=study_id), reason)
    return failed


def mark_runs_failed(runs, reason: str) -> int:
    """Those of `runs` still marked running are failed, with `reason`."""
    model = runs.model
    return runs.filter(status=model.Status.RUNNING).update(
        status=model.Status.FAILED, error=reason, finished_at=timezone.now()
    )
