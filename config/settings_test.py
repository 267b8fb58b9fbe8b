"""Settings for pytest: the normal settings on a local, plain-HTTP machine."""

import os

os.environ.setdefault("MGE_DEV", "1")
# Plain connections in tests: with the psycopg pool, connections taken in the
# thread pool of a test's event loop are not all handed back before the
# transactional flush, and the pool runs dry after a few dozen websocket
# tests. Served processes use the pool (bench/interview_load.py runs it).
os.environ.setdefault("DB_POOL", "0")

# Hermetic: no `.env`, and no provider's key or address from the shell. Set in
# os.environ, not just below, so the servers and workers some tests start
# (tests/faults, tests/scaleout) inherit the same.
os.environ["MGE_READ_DOTENV"] = "0"
_LLM_ENVIRONMENT = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "LLM_DEFAULT_PROVIDER",
    "LLM_DEFAULT_MODEL",
    "EMBEDDING_PROVIDER",
    "EMBEDDING_MODEL",
    "LLM_TOOL_PROTOCOL",
    "LLM_STRICT_TURNS",
    "LLM_PRICE_OVERRIDES",
)
for _name in _LLM_ENVIRONMENT:
    os.environ.pop(_name, None)

from config.settings import *  # noqa: F403 -- after the environment is cleaned, on purpose

# Every test talks to the offline provider unless it routes a call elsewhere itself.
LLM_DEFAULT_PROVIDER = "offline"
LLM_DEFAULT_MODEL = "offline-interviewer"
ANTHROPIC_API_KEY = ""
OPENAI_API_KEY = ""
OPENAI_BASE_URL = ""
EMBEDDING_PROVIDER = "offline"
EMBEDDING_MODEL = ""
LLM_TOOL_PROTOCOL = "native"
LLM_STRICT_TURNS = False
LLM_PRICE_OVERRIDES = {}

# Hashing passwords slowly protects real accounts, not test fixtures.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LLM_OFFLINE_STREAM_DELAY = 0
LLM_RETRY_BASE_SECONDS = 0.01
# Async services' database calls run on the caller's connection (see mgeplatform/asyncdb.py).
DB_ASYNC_ON_CALLER = True
# A websocket frame of a shape its socket does not declare fails the test (studies/frames.py).
WEBSOCKET_FRAMES_STRICT = True
