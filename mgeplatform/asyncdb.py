"""Database work from async code (websocket consumers, streamed replies).

Channels' default runs every such call on one shared thread per process, so
a few hundred concurrent interviews queue behind each other's queries. These
calls are independent short transactions, so they run in the thread pool
instead; connections come from the per-process psycopg pool and go back after
each call (database_sync_to_async closes them).
"""

from functools import partial

from channels.db import database_sync_to_async

db_async = partial(database_sync_to_async, thread_sensitive=False)
