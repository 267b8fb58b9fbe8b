"""Background jobs that outlive the process running them.

A worker beats every WORKER_HEARTBEAT_SECONDS (procrastinate's worker
heartbeat). When a worker is killed mid-job, or loses the database and exits,
its jobs stay `doing`; once its heartbeat is older than WORKER_STALLED_SECONDS
they are put back in the queue here, and another worker runs them again.
Jobs must therefore be safe to run twice (ours are: a story or a card that
already exists is skipped).
"""

from __future__ import annotations

import logging
from typing import cast

import psycopg
from django.conf import settings
from procrastinate.contrib.django import app

from mgeplatform import locks

log = logging.getLogger(__name__)

RECOVERY_TASK = "journey.recover_stalled_work"


async def retry_stalled_jobs() -> list[int]:
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.WORKER_STALLED_SECONDS)
    ids: list[int] = []
    for job in stalled:
        await app.job_manager.retry_job(job)
        ids.append(cast(int, job.id))  # a job read from the database has its id
    if ids:
        log.warning("put %d stalled job(s) back in the queue (their worker stopped): %s", len(ids), ids)
    return ids


def database_reachable(timeout: int = 2) -> bool:
    """A quick look, outside the connection pool (whose wait is long)."""
    try:
        with psycopg.connect(**locks.conninfo(), connect_timeout=timeout):
            return True
    except psycopg.Error:
        return False


def schedule_recovery(delay_seconds: float) -> int | None:
    """Queue the recovery task to run after `delay_seconds` (by name: the task
    lives in a higher layer). None when the database cannot be reached; the
    periodic run covers it then."""
    if not database_reachable():
        return None
    try:
        return app.configure_task(
            RECOVERY_TASK, queueing_lock="recover_stalled_work", schedule_in={"seconds": delay_seconds}
        ).defer()
    except Exception as err:  # noqa: BLE001 - already queued, or the database is down
        log.info("recovery not scheduled: %s", err)
        return None
