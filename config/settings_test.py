"""Settings for pytest: the normal settings on a local, plain-HTTP machine."""

import os

os.environ.setdefault("MGE_DEV", "1")
# Plain connections in tests: with the psycopg pool, connections taken in the
# thread pool of a test's event loop are not all handed back before the
# transactional flush, and the pool runs dry after a few dozen websocket
# tests. Served processes use the pool (bench/interview_load.py runs it).
os.environ.setdefault("DB_POOL", "0")

from config.settings import *  # noqa: F403

# Hashing passwords slowly protects real accounts, not test fixtures.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LLM_OFFLINE_STREAM_DELAY = 0
LLM_RETRY_BASE_SECONDS = 0.01
# Async services' database calls run on the caller's connection (see mgeplatform/asyncdb.py).
DB_ASYNC_ON_CALLER = True
