"""Database work from async code (websocket consumers, streamed replies).

Channels' default runs every such call on one shared thread per process, so
a few hundred concurrent interviews queue behind each other's queries. These
calls are independent short transactions, so they run in the thread pool
instead; connections come from the per-process psycopg pool and go back after
each call (database_sync_to_async closes them).

Tests set DB_ASYNC_ON_CALLER: the call then runs on the thread that called
async_to_sync, on the test's own connection, so it sees the test's data and
the test rolls back instead of flushing every table.
"""

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings


def db_async(fn):
    if getattr(settings, "DB_ASYNC_ON_CALLER", False):
        return sync_to_async(fn, thread_sensitive=True)
    return database_sync_to_async(fn, thread_sensitive=False)
