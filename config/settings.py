"""Settings for every environment, read from environment variables through config.env.

Two shapes of deployment:

* embedded (no ``DATABASE_URL``): SQLite, media and a file-system Celery broker under
  ``ANNOTATE_DATA_DIR`` (default ``./var``). A secret key is generated once into that folder.
  ``scripts/start`` runs this shape with one real worker process.
* production (``DATABASE_URL`` set): PostgreSQL through psycopg 3, Redis as the broker, and
  ``SECRET_KEY`` required from the environment.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_optional, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = env_path("ANNOTATE_DATA_DIR", BASE_DIR / "var")

DATABASE_URL = env_optional("DATABASE_URL")
EMBEDDED = DATABASE_URL is None

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = env_optional("SECRET_KEY")
    if key:
        return key
    if not EMBEDDED:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DATABASE_URL is set")
    # Embedded instance: one random key per data dir, kept beside its database.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Behind TLS (production default): secure cookies, HSTS and redirects, so `check --deploy` passes.
HTTPS = env_bool("ANNOTATE_HTTPS", not EMBEDDED)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("ANNOTATE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("ANNOTATE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "axes",
    "annotate",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "annotate.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],
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

if EMBEDDED:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # The web server and the worker write concurrently: WAL plus immediate transactions
            # turn "database is locked" into a short wait.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
else:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL or "", conn_max_age=60, conn_health_checks=True)  # type: ignore[dict-item]
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a sign-in while the account or the address is locked out.
AUTHENTICATION_BACKENDS = [
    "annotate.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a check: its password_changed hook revokes the user's API tokens (annotate.tokens).
    {"NAME": "annotate.tokens.RevokeTokensOnPasswordChange"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

STATIC_URL = "/static/"
STATIC_ROOT = env_path("ANNOTATE_STATIC_ROOT", DATA_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request without it
STATICFILES_DIRS = [BASE_DIR / "frontend" / "static"]

MEDIA_URL = "/media/"
MEDIA_ROOT = env_path("ANNOTATE_MEDIA_ROOT", DATA_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Uploads are streamed to a temporary file on disk, never held in memory whole.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# The upload limit (ANNOTATE_MAX_UPLOAD_BYTES) is enforced as the body streams in, before the
# default handlers write it to memory or to FILE_UPLOAD_TEMP_DIR.
FILE_UPLOAD_HANDLERS = [
    "annotate.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Platform limits and paths.
ANNOTATE_MAX_UPLOAD_BYTES = env_int("ANNOTATE_MAX_UPLOAD_BYTES", 2 * 1024**3, minimum=1)
ANNOTATE_MAX_FRAMES = env_int("ANNOTATE_MAX_FRAMES", 20_000, minimum=1)
ANNOTATE_MAX_PIXELS = env_int("ANNOTATE_MAX_PIXELS", 4096 * 4096, minimum=1)
ANNOTATE_IMPORT_ROOTS = [
    Path(p).expanduser().resolve()
    for p in env_list("ANNOTATE_IMPORT_ROOTS", [str(DATA_DIR / "imports")], separator=":")
]
ANNOTATE_WORK_DIR = env_path("ANNOTATE_WORK_DIR", DATA_DIR / "work")
# Pretrained detector weights, used when the file exists; training starts from scratch otherwise.
ANNOTATE_BASE_WEIGHTS = env_str("ANNOTATE_BASE_WEIGHTS", str(DATA_DIR / "weights" / "yolo11n.pt"))
# Folders a project's own base weights may come from: the worker unpickles the file it names.
ANNOTATE_WEIGHTS_ROOTS = [
    Path(p).expanduser().resolve()
    for p in env_list("ANNOTATE_WEIGHTS_ROOTS", [str(DATA_DIR / "weights")], separator=":")
]

# Background jobs (annotate.jobs). A running job beats its row's heartbeat every HEARTBEAT seconds;
# the sweep, at worker start and every SWEEP seconds in each worker, re-queues (or, after
# ANNOTATE_JOB_MAX_ATTEMPTS, fails) a job silent for STALE seconds: a killed worker's job is taken
# up again within STALE + SWEEP seconds (45 by default).
ANNOTATE_JOB_HEARTBEAT_SECONDS = env_int("ANNOTATE_JOB_HEARTBEAT_SECONDS", 5, minimum=1)
ANNOTATE_JOB_STALE_SECONDS = env_int("ANNOTATE_JOB_STALE_SECONDS", 30, minimum=2)
ANNOTATE_JOB_SWEEP_SECONDS = env_int("ANNOTATE_JOB_SWEEP_SECONDS", 15, minimum=1)
ANNOTATE_JOB_MAX_ATTEMPTS = env_int("ANNOTATE_JOB_MAX_ATTEMPTS", 2, minimum=1)
if ANNOTATE_JOB_STALE_SECONDS <= 2 * ANNOTATE_JOB_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "ANNOTATE_JOB_STALE_SECONDS must be more than twice ANNOTATE_JOB_HEARTBEAT_SECONDS, "
        "or a live job could be taken for dead"
    )
# The longest each job may run (Celery's hard time limit; the worker kills the task after it).
ANNOTATE_INGEST_TIME_LIMIT = env_int("ANNOTATE_INGEST_TIME_LIMIT", 2 * 3600, minimum=60)
ANNOTATE_EXPORT_TIME_LIMIT = env_int("ANNOTATE_EXPORT_TIME_LIMIT", 2 * 3600, minimum=60)
ANNOTATE_GENERATION_TIME_LIMIT = env_int("ANNOTATE_GENERATION_TIME_LIMIT", 3600, minimum=60)
ANNOTATE_IMPORT_TIME_LIMIT = env_int("ANNOTATE_IMPORT_TIME_LIMIT", 3600, minimum=60)

# Celery: tasks carry ids only; job state lives in database rows.
CELERY_BROKER_URL = env_optional("CELERY_BROKER_URL")
if CELERY_BROKER_URL == "filesystem://":  # named explicitly: the embedded broker in the data dir
    CELERY_BROKER_URL = None
if CELERY_BROKER_URL is None and not EMBEDDED and env_optional("CELERY_BROKER_URL") is None:
    raise ImproperlyConfigured("CELERY_BROKER_URL must be set when DATABASE_URL is set")
if CELERY_BROKER_URL is None:
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
        # How often an idle worker looks for a new message file (kombu's default is 1 s, which a
        # generation queued on the 5th finished frame waited out; a listing every 0.1 s is cheap).
        "polling_interval": 0.1,
    }
else:
    # Redis hands an unacknowledged message out again after this long. Longer than the longest job's
    # time limit, so a live job is never run twice; a dead worker's job does not wait for it, the
    # sweep re-queues it (annotate.jobs), and the late copy finds its row finished.
    _longest_job = max(
        ANNOTATE_INGEST_TIME_LIMIT,
        ANNOTATE_EXPORT_TIME_LIMIT,
        ANNOTATE_GENERATION_TIME_LIMIT,
        ANNOTATE_IMPORT_TIME_LIMIT,
    )
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("ANNOTATE_VISIBILITY_TIMEOUT", _longest_job + 600, minimum=60)
    }
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queues a worker host can consume: `cpu` (ingest, export, import) and `gpu` (training, inference).
ANNOTATE_QUEUES = ["cpu", "gpu"]
ANNOTATE_WORKER_QUEUES = env_list("ANNOTATE_WORKER_QUEUES", ANNOTATE_QUEUES)
ANNOTATE_WORKER_CONCURRENCY = env_int("ANNOTATE_WORKER_CONCURRENCY", 1, minimum=1)

# --- Sign-in protection (issue 11) ------------------------------------------------------------------
# The login form and the admin's: after this many failed sign-ins for one username, or from one
# address, further attempts for it are refused for the cool-off time (django-axes; a success resets
# the count). `manage.py axes_reset_username NAME` or `axes_reset_ip ADDRESS` unlocks early.
AXES_FAILURE_LIMIT = env_int("ANNOTATE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ANNOTATE_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each counted on its own
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "annotate.lockout.lockout_response"
AXES_VERBOSE = False
# How many reverse proxies stand in front of the app (0: none; X-Forwarded-For is then ignored). The
# lockout and the throttles count a client by its address: with N proxies it is the N-th entry from the
# right of X-Forwarded-For, which the first proxy wrote; entries further left came from the client
# and are ignored (annotate.client_address). Only correct if the app port is reachable through them only.
ANNOTATE_TRUSTED_PROXIES = env_int("ANNOTATE_TRUSTED_PROXIES", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "annotate.client_address.client_address"
# The token endpoint is throttled per account and per address as well (DRF throttles, on the cache).
ANNOTATE_TOKEN_RATE_ACCOUNT = env_str("ANNOTATE_TOKEN_RATE_ACCOUNT", "10/min")
ANNOTATE_TOKEN_RATE_ADDRESS = env_str("ANNOTATE_TOKEN_RATE_ADDRESS", "30/min")
# Members a manager may add per hour: usernames are checked exactly, so this bounds enumeration.
ANNOTATE_MEMBER_ADD_RATE = env_str("ANNOTATE_MEMBER_ADD_RATE", "60/hour")
# API tokens expire this long after they were issued (0: never); a password change revokes them.
ANNOTATE_TOKEN_TTL_HOURS = env_int("ANNOTATE_TOKEN_TTL_HOURS", 24 * 30, minimum=0)

# Counters of the throttles, shared by every web process: Redis when ANNOTATE_CACHE_URL names one,
# otherwise files in the data dir (one host).
_cache_url = env_optional("ANNOTATE_CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    )
}

# Content-Security-Policy of every response: the pages load only their own scripts, styles and
# images (frames come from /api/ as blobs or URLs of this site); nothing may frame them. Style
# attributes stay allowed (the charts and colour swatches set them; they cannot run code).
ANNOTATE_CSP = env_str(
    "ANNOTATE_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "annotate.tokens.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "annotate.apis.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "annotate.apis.exceptions.api_exception_handler",
    # DRF's own address rule (anonymous throttles): X-Forwarded-For only through the trusted proxies.
    "NUM_PROXIES": ANNOTATE_TRUSTED_PROXIES,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Annotate API",
    "DESCRIPTION": "Projects, clips, frames, tracks, boxes and micro-model generations.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "annotate.models.JobStatus",
        "VideoStatusEnum": "annotate.models.VideoStatus",
        "ReviewStateEnum": "annotate.models.ReviewState",
        "ExportFormatEnum": "annotate.models.ExportFormat",
        "ImportFormatEnum": "annotate.models.ImportFormat",
    },
}

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Annotation loop (issue 4): generations, pre-labels, suggestions, efficiency ----------------------
# Training budget of one generation. The engine stops at whichever comes first: the time, or the
# epochs (YOLO) / the optimiser steps (ClipNet, the CPU default without base weights).
ANNOTATE_TRAIN_EPOCHS = env_int("ANNOTATE_TRAIN_EPOCHS", 300, minimum=1)
ANNOTATE_CLIPNET_MAX_STEPS = env_int("ANNOTATE_CLIPNET_MAX_STEPS", 4000, minimum=1)
ANNOTATE_TRAIN_TIME_BUDGET = env_int("ANNOTATE_TRAIN_TIME_BUDGET", 45, minimum=1)  # seconds
ANNOTATE_TRAIN_IMGSZ = env_int("ANNOTATE_TRAIN_IMGSZ", 320, minimum=32)
ANNOTATE_TRAIN_DEVICE = env_str("ANNOTATE_TRAIN_DEVICE", "auto")  # "auto", "cpu", "cuda:0", ...
ANNOTATE_SUGGESTIONS = env_int("ANNOTATE_SUGGESTIONS", 5, minimum=1)  # frames suggested per generation
# Decoded frames each worker process keeps between the passes of a generation and between
# generations (micromodels.frames), in MiB; 0 turns the cache off. Per process: a worker with
# --concurrency N holds up to N times this.
ANNOTATE_FRAME_CACHE_MB = env_int("ANNOTATE_FRAME_CACHE_MB", 512, minimum=0)
# A run whose worker died is retried this many times in all (redelivery), then marked failed.
ANNOTATE_GENERATION_MAX_ATTEMPTS = env_int("ANNOTATE_GENERATION_MAX_ATTEMPTS", 2, minimum=1)
# A running generation beats its heartbeat (updated_at) while it trains; one silent for this long is
# taken for dead (its worker was killed) and marked failed by the sweep.
ANNOTATE_GENERATION_STALE_SECONDS = env_int("ANNOTATE_GENERATION_STALE_SECONDS", 300, minimum=5)
# Efficiency: without a client-measured duration, an action costs the gap since the same person's
# previous action, at most this many seconds (a coffee break is not labeling time).
ANNOTATE_EFFICIENCY_GAP_CAP_SECONDS = env_int("ANNOTATE_EFFICIENCY_GAP_CAP_SECONDS", 60, minimum=1)

# Label imports (zip uploads and folders): checked before anything is read out of them.
ANNOTATE_IMPORT_MAX_ENTRIES = env_int("ANNOTATE_IMPORT_MAX_ENTRIES", 200_000, minimum=1)
ANNOTATE_IMPORT_MAX_UNCOMPRESSED_BYTES = env_int(
    "ANNOTATE_IMPORT_MAX_UNCOMPRESSED_BYTES", 4 * 1024**3, minimum=1
)
# One label file (a COCO JSON, a gt.txt, a zip member) is read as a stream up to this many bytes; a zip
# member inflating more than MAX_ZIP_RATIO times its compressed size is refused (zip bombs).
ANNOTATE_IMPORT_MAX_LABEL_BYTES = env_int("ANNOTATE_IMPORT_MAX_LABEL_BYTES", 512 * 1024**2, minimum=1)
ANNOTATE_IMPORT_MAX_ZIP_RATIO = env_int("ANNOTATE_IMPORT_MAX_ZIP_RATIO", 100, minimum=1)
