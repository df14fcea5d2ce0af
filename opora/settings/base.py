"""Settings shared by every preset. Everything that differs between machines comes from the environment."""

import datetime as dt
import os
import zoneinfo
from collections.abc import Mapping
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Always use the pinned `tzdata` package, not the host's zoneinfo: Kazakhstan moved to a single
# time zone (UTC+5) on 1 March 2024 and an older host database would book 1411 slots an hour off.
zoneinfo.reset_tzpath(to=[])

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("OPORA_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [x.strip() for x in os.environ.get(name, default).split(",") if x.strip()]


SECRET_KEY = os.environ.get("OPORA_SECRET_KEY", "")
DEBUG = env_bool("OPORA_DEBUG", False)
# Even with DEBUG on, Django's error page goes only to the machine itself and never lists the
# settings (DATABASE_URL carries a password): opora.core.http.LocalOnlyExceptionReporter.
DEFAULT_EXCEPTION_REPORTER = "opora.core.http.LocalOnlyExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "opora.core.http.NoSettingsExceptionReporterFilter"
ALLOWED_HOSTS = env_list("OPORA_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # one-time recovery codes beside the app
    "axes",
    "channels",
    "opora.core",
    "opora.accounts",
    "opora.registry",
    "opora.intake",
    "opora.scheduling",
    "opora.consultations",
    "opora.journals",
    "opora.reports",
    "opora.surveys",
    "opora.quality",
    "opora.complaints",
    "opora.events",
    "opora.notifications",
    "opora.mail",
    "opora.messengers",
    "opora.portal",
    "opora.api",
    "opora.web",
    "opora.demo",  # on top: the demo command and the test factories
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # CSP, Permissions-Policy and no-store on staff and private pages (every response, its 400s too).
    "opora.core.http.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session and the views: every string from outside is checked once (core.inputs).
    "opora.core.http.InputBoundaryMiddleware",
    # /api/ calls per token and per address, counted in the shared cache (opora.core.ratelimit).
    "opora.core.http.ApiRateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "opora.accounts.two_factor.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff idle for OPORA_STAFF_IDLE_MINUTES are signed out (opora.accounts.sessions).
    "opora.accounts.sessions.StaffIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses sign-in while locked out
    "django.contrib.auth.backends.ModelBackend",
]
# Wrong passwords pause sign-in for 15 minutes, counted three ways (django-axes counts each
# combination on its own): five for one account from one address (a typo-prone colleague does
# not lock out the whole call centre behind that address); twenty for one account from any
# addresses (guessing one account from many addresses is limited, while a stranger can keep a
# real user out for at most 15 minutes at a time, and the user's own address still has its five);
# fifty from one address for any accounts (spraying many accounts). A successful sign-in resets
# the account's count. The counts live in the database (axes' own table), shared by every worker.
AXES_FAILURE_LIMIT = "opora.accounts.lockout.failure_limit"
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
OPORA_SIGNIN_LIMIT_ACCOUNT_ADDRESS = int(os.environ.get("OPORA_SIGNIN_LIMIT_ACCOUNT_ADDRESS", "5"))
OPORA_SIGNIN_LIMIT_ACCOUNT = int(os.environ.get("OPORA_SIGNIN_LIMIT_ACCOUNT", "20"))
OPORA_SIGNIN_LIMIT_ADDRESS = int(os.environ.get("OPORA_SIGNIN_LIMIT_ADDRESS", "50"))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "opora.accounts.lockout.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins: the audit log and sessions are enough

ROOT_URLCONF = "opora.urls"
ASGI_APPLICATION = "opora.asgi.application"
WSGI_APPLICATION = "opora.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "opora" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# SQLite is the embedded default: one file, nothing to install. IMMEDIATE transactions plus a busy
# timeout make concurrent writers queue instead of failing with "database is locked".
SQLITE_PATH = VAR_DIR / "opora.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "")


# PostgreSQL through a connection pool per process (Django's, psycopg_pool): under ASGI every
# request may run in a thread of its own, and persistent per-thread connections (CONN_MAX_AGE > 0)
# pile up until the server refuses new ones (docs/PERFORMANCE.md, "Connections under load"). The
# pool hands a connection to a request and takes it back at the end; past OPORA_DB_POOL_MAX a
# request waits up to OPORA_DB_POOL_TIMEOUT seconds for one. Production pools by default (sized
# for a 2-core node, 4 uvicorn workers); OPORA_DB_POOL_MAX=0 turns the pool off (e.g. behind
# PgBouncer), and then OPORA_CONN_MAX_AGE applies. The pool needs CONN_MAX_AGE = 0.
_DB_POOL_DEFAULTS = {
    "OPORA_DB_POOL_MIN": "2",
    "OPORA_DB_POOL_MAX": "10",
    "OPORA_DB_POOL_TIMEOUT": "10",
}


def database_pool_options(environ: Mapping[str, str], *, by_default: bool) -> dict | None:
    """The `OPTIONS["pool"]` of a PostgreSQL database from the environment, or None for no pool."""
    if not environ.get("OPORA_DB_POOL_MAX", "").strip() and not by_default:
        return None
    values = {}
    for name, default in _DB_POOL_DEFAULTS.items():
        raw = environ.get(name, "").strip() or default
        try:
            values[name] = float(raw) if name == "OPORA_DB_POOL_TIMEOUT" else int(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a number (got {raw!r})") from None
    low, high = values["OPORA_DB_POOL_MIN"], values["OPORA_DB_POOL_MAX"]
    if high == 0:
        return None
    if not 0 <= low <= high or values["OPORA_DB_POOL_TIMEOUT"] <= 0:
        raise ImproperlyConfigured(
            "OPORA_DB_POOL_MIN must be between 0 and OPORA_DB_POOL_MAX, and "
            "OPORA_DB_POOL_TIMEOUT above zero"
        )
    return {"min_size": low, "max_size": high, "timeout": values["OPORA_DB_POOL_TIMEOUT"]}


def database_config(
    url: str, *, environ: Mapping[str, str] = os.environ, pool_by_default: bool = False
) -> dj_database_url.DBConfig:
    """Django's DATABASES entry for `url` (empty: the embedded SQLite file), with the pool of
    `database_pool_options` on PostgreSQL (on by default when `pool_by_default`)."""
    if url:
        cfg = dj_database_url.parse(url, conn_max_age=int(environ.get("OPORA_CONN_MAX_AGE", "60")))
        pool = None
        if cfg["ENGINE"] == "django.db.backends.postgresql":
            pool = database_pool_options(environ, by_default=pool_by_default)
        if pool is not None:
            cfg["CONN_MAX_AGE"] = 0
            cfg.setdefault("OPTIONS", {})["pool"] = pool
    else:
        cfg = dj_database_url.DBConfig(ENGINE="django.db.backends.sqlite3", NAME=str(SQLITE_PATH))
    if cfg["ENGINE"] == "django.db.backends.sqlite3":
        cfg["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
        cfg["ATOMIC_REQUESTS"] = False
    return cfg


DATABASES = {"default": database_config(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Argon2id (OWASP's m=46 MiB, t=1, p=1: opora/accounts/hashers.py), ~45 ms a hash here, where
# Django's PBKDF2 (1,000,000 iterations) took a sign-in past 0.5 s on a busy machine
# (docs/PERFORMANCE.md). The others verify older hashes; Django re-hashes them at the next sign-in.
PASSWORD_HASHERS = [
    "opora.accounts.hashers.OporaArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("kk", _("Kazakh")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "opora" / "locale"]
USE_I18N = True
USE_TZ = True
# Display default only; business rules use each service's own time zone.
TIME_ZONE = os.environ.get("OPORA_TIME_ZONE", "Asia/Almaty")

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "opora" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Realtime and background work ---------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# The rooms' channel layers are Channels' own with two costs removed (opora/consultations/layers.py,
# measured in docs/PERFORMANCE.md): channels-redis with a pool that waits for a free connection
# instead of failing past 100, and, without Redis, the in-memory layer without its per-message
# sweep of every channel.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "opora.consultations.layers.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "opora.consultations.layers.InMemoryChannelLayer"}}
    # The embedded default needs no broker server: tasks run in-process, and `opora scheduler`
    # fires the periodic ones (see docs/ARCHITECTURE.md).
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
# A leased outbox row older than this is a worker that died mid-send (notifications.outbox).
OPORA_OUTBOX_LEASE_SECONDS = int(os.environ.get("OPORA_OUTBOX_LEASE_SECONDS", "300"))
# Beat wakes every minute; each task decides per service (in the service's time zone) what is due.
CELERY_BEAT_SCHEDULE = {
    "daily-handoff": {"task": "opora.scheduling.tasks.send_due_handoffs", "schedule": crontab()},
    "reports-1411-drafts": {
        "task": "opora.reports.tasks.draft_monthly_reports",
        "schedule": crontab(minute=0, hour=6, day_of_month=1),
    },  # noqa: E501
    "mail-fetch": {"task": "opora.mail.tasks.fetch_mailboxes", "schedule": crontab()},
    "mail-overdue": {
        "task": "opora.mail.tasks.flag_overdue_answers",
        "schedule": crontab(minute="*/15"),
    },
    "reminders": {
        "task": "opora.scheduling.tasks.send_due_reminders",
        "schedule": crontab(minute="*/5"),
    },
    "messenger-inbound-retry": {
        "task": "opora.messengers.tasks.retry_inbound",
        "schedule": crontab(minute="*/2"),
    },
    "recordings-abandoned": {
        "task": "opora.consultations.tasks.close_abandoned_recordings",
        "schedule": crontab(minute="*/5"),
    },
    "quality-sweep": {
        "task": "opora.quality.tasks.sweep_evaluations",
        "schedule": crontab(),
    },
    "event-reminders": {
        "task": "opora.events.tasks.send_event_reminders",
        "schedule": crontab(minute="*/5"),
    },
    "event-recordings-abandoned": {
        "task": "opora.events.tasks.close_abandoned_event_recordings",
        "schedule": crontab(minute="*/5"),
    },
    "late-bookings": {
        "task": "opora.journals.tasks.alert_late_bookings",
        "schedule": crontab(minute="*/30"),
    },
    # The dashboards' daily roll-up: the changed and the last days, and nightly anew (UTC 21:10).
    "dashboard-rollups": {
        "task": "opora.journals.tasks.refresh_rollups",
        "schedule": crontab(minute="*/5"),
    },
    "dashboard-rollups-rebuild": {
        "task": "opora.journals.tasks.rebuild_rollups",
        "schedule": crontab(hour=21, minute=10),
    },
    # The 1411 reports' stored month figures: the marked months, and nightly anew (UTC 21:40).
    "reports-1411-figures": {
        "task": "opora.reports.tasks.refresh_report_figures",
        "schedule": crontab(minute="*/5"),
    },
    "reports-1411-figures-rebuild": {
        "task": "opora.reports.tasks.rebuild_report_figures",
        "schedule": crontab(hour=21, minute=40),
    },
    # The one outbox: due retries, lost task messages and stale leases of every channel.
    "outbox-sweep": {"task": "opora.notifications.tasks.sweep_outbox", "schedule": crontab()},
    # The audit events written since the last minute are chained (sealed) in one batch.
    "audit-seal": {"task": "opora.web.tasks.seal_audit_events", "schedule": crontab()},
    # The audit log's hash chain checked daily; a break alerts the security officers.
    "audit-verify": {
        "task": "opora.web.tasks.verify_audit_chain",
        "schedule": crontab(hour=3, minute=30),
    },
    # Issue 15: the security officers alerted before each breach notification deadline.
    "breach-deadlines": {
        "task": "opora.web.tasks.alert_breach_deadlines",
        "schedule": crontab(minute="*/10"),
    },
    # Issue 15: records past their retention term anonymised or deleted (core.retention).
    "retention": {"task": "opora.core.tasks.retention_run", "schedule": crontab(hour=2, minute=15)},
}

# --- Cache (rate limits) --------------------------------------------------------------------------
# Every rate limit (opora.core.ratelimit: portal forms, IIN checks, the API) counts in this cache,
# shared by every worker and kept over restarts: Redis in production, the database in the embedded
# default (`opora prepare` creates its table; SQLite's IMMEDIATE transactions make its
# read-and-write count atomic). Sign-in has django-axes, whose counts are in the database too.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "opora",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "opora_cache",
            "KEY_PREFIX": "opora",
        }
    }

# --- Mail ---------------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "OPORA_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = os.environ.get("OPORA_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("OPORA_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("OPORA_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("OPORA_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("OPORA_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("OPORA_FROM_EMAIL", "Opora <no-reply@opora.example>")

# WebRTC: STUN servers, and TURN with time-limited credentials from coturn's shared secret
# (`use-auth-secret`). Empty by default: on one machine or a LAN, host candidates suffice.
OPORA_ICE_SERVERS = [{"urls": url} for url in env_list("OPORA_STUN_URLS")]
OPORA_TURN_SECRET = os.environ.get("OPORA_TURN_SECRET", "")
OPORA_TURN_URLS = env_list("OPORA_TURN_URLS")
OPORA_TURN_TTL_SECONDS = int(os.environ.get("OPORA_TURN_TTL_SECONDS", "14400"))

OPORA_SMS_BACKEND = os.environ.get("OPORA_SMS_BACKEND", "opora.notifications.sms.OutboxSmsBackend")
# The address every link in a notice, a calendar file or a messenger reply starts with; built by
# `opora.core.links.public_url`. Without it, the local address `make run` serves (its PORT).
OPORA_PUBLIC_URL = os.environ.get("OPORA_PUBLIC_URL") or (
    "http://127.0.0.1:" + (os.environ.get("PORT") or "8000")
)

# Personal data never goes to logs: see opora.core.logging.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "opora.core.logging.ScrubPersonalData"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["scrub"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("OPORA_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

SESSION_COOKIE_HTTPONLY = True
# Staff sessions end after this long without a request, and after OPORA_STAFF_SESSION_HOURS
# however active (opora.accounts.sessions); a cookie never outlives the cap.
OPORA_STAFF_IDLE_MINUTES = int(os.environ.get("OPORA_STAFF_IDLE_MINUTES", "30"))
OPORA_STAFF_SESSION_HOURS = int(os.environ.get("OPORA_STAFF_SESSION_HOURS", "12"))
SESSION_COOKIE_AGE = OPORA_STAFF_SESSION_HOURS * 3600
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Recordings, chat files, messengers -----------------------------------------------------------
# 32 random bytes, URL-safe base64: wraps the per-recording keys (docs/OPERATIONS.md). Without it the
# key is derived from the secret key — acceptable for the embedded demo only; production requires it.
OPORA_RECORDING_KEY = os.environ.get("OPORA_RECORDING_KEY", "")
OPORA_RECORDING_OLD_KEYS = env_list("OPORA_RECORDING_OLD_KEYS")
# Staff sign in with a one-time code from an authenticator app as well (on in production).
OPORA_STAFF_2FA = env_bool("OPORA_STAFF_2FA", False)
OTP_TOTP_ISSUER = "Opora"
# Security keys and passkeys (WebAuthn, accounts.security_keys) are bound to this domain: the host of
# OPORA_PUBLIC_URL unless set (a parent domain of it, e.g. "example.kz" for "opora.example.kz").
# Changing it later makes every key already added unusable (the app's codes still work).
OPORA_WEBAUTHN_RP_ID = os.environ.get("OPORA_WEBAUTHN_RP_ID", "")

# Encrypts stored secrets and personal data at rest (`core.fields`, the list in `core.sensitive`).
OPORA_FIELD_KEY = os.environ.get("OPORA_FIELD_KEY", "")
OPORA_FIELD_OLD_KEYS = env_list("OPORA_FIELD_OLD_KEYS")
# Keys the blind indexes of encrypted personal data (IIN, phone, e-mail, name words; core.crypto):
# a key of its own, so that the field key cannot test guesses. 32 random bytes, URL-safe base64.
# Without it the key is derived from SECRET_KEY (development, tests). Rotation: `rotate_keys`.
OPORA_INDEX_KEY = os.environ.get("OPORA_INDEX_KEY", "")
OPORA_INDEX_OLD_KEYS = env_list("OPORA_INDEX_OLD_KEYS")
# Keys the audit log's hash chain (core.audit_chain): 32 random bytes, URL-safe base64. Without it
# (development, tests) the key is derived from SECRET_KEY; production requires it.
OPORA_AUDIT_KEY = os.environ.get("OPORA_AUDIT_KEY", "")
# After a rotation: the keys that sealed the audit chain's earlier events (comma-separated).
OPORA_AUDIT_OLD_KEYS = env_list("OPORA_AUDIT_OLD_KEYS")
# Issue 15: retention terms in days by kind (core.retention), where no RetentionRule row says
# otherwise; none by default (kept until a term is configured). E.g. "chat=365,recordings=1095".
OPORA_RETENTION_DAYS = {
    kind.strip(): int(days)
    for kind, _sep, days in (
        item.partition("=") for item in env_list("OPORA_RETENTION_DAYS") if "=" in item
    )
}
# Issue 15: the hosts (names or CIDRs) the database, cache, storage and mail may live on
# (`opora check_residency`, system check opora.W015/E015); empty: not checked.
OPORA_DATA_HOSTS_ALLOWED = env_list("OPORA_DATA_HOSTS_ALLOWED")
OPORA_PRODUCTION = False  # production.py sets it
OPORA_CHAT_FILE_MAX_BYTES = int(os.environ.get("OPORA_CHAT_FILE_MAX_BYTES", str(10 * 1024 * 1024)))
OPORA_TELEGRAM_API_BASE = os.environ.get("OPORA_TELEGRAM_API_BASE", "https://api.telegram.org")
OPORA_WHATSAPP_API_BASE = os.environ.get(
    "OPORA_WHATSAPP_API_BASE", "https://graph.facebook.com/v20.0"
)
OPORA_VIBER_API_BASE = os.environ.get("OPORA_VIBER_API_BASE", "https://chatapi.viber.com/pa")
OPORA_VK_API_BASE = os.environ.get("OPORA_VK_API_BASE", "https://api.vk.com/method")
