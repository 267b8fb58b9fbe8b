"""Settings for pytest: the normal settings on a local, plain-HTTP machine."""

import os

os.environ.setdefault("MGE_DEV", "1")

from mgeplatform.settings import *  # noqa: E402,F401,F403

# Hashing passwords slowly protects real accounts, not test fixtures.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LLM_OFFLINE_STREAM_DELAY = 0
LLM_RETRY_BASE_SECONDS = 0.01
