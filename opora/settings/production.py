"""Production: PostgreSQL and Redis required, secrets only from the environment, secure cookies."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASE_URL, REDIS_URL, SECRET_KEY, database_config, env_bool

# Issue 15: the in-country data host check (core.residency) is an error here, skipped elsewhere.
OPORA_PRODUCTION = True

if not SECRET_KEY:
    raise ImproperlyConfigured("OPORA_SECRET_KEY must be set in production")
if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL in production")
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set in production")
if not os.environ.get("OPORA_RECORDING_KEY"):
    raise ImproperlyConfigured(
        "OPORA_RECORDING_KEY must be set in production (it encrypts recordings and chat files)"
    )
# Every link in a notice, an SMS, a calendar file or a messenger reply starts with it; base.py's
# fallback (the local address `make run` serves) would send parents dead links.
_public_url = os.environ.get("OPORA_PUBLIC_URL", "").strip()
if not _public_url:
    raise ImproperlyConfigured(
        "OPORA_PUBLIC_URL must be set in production: the address every link in notices, SMS, "
        "calendar files and messenger replies starts with (e.g. https://opora.example.org)"
    )
if not _public_url.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        f"OPORA_PUBLIC_URL must be an absolute address starting with https:// (got {_public_url!r})"
    )
if not os.environ.get("OPORA_FIELD_KEY"):
    raise ImproperlyConfigured(
        "OPORA_FIELD_KEY must be set in production (it encrypts mailbox passwords and "
        "messenger tokens)"
    )

if not os.environ.get("OPORA_AUDIT_KEY"):
    raise ImproperlyConfigured(
        "OPORA_AUDIT_KEY must be set in production (it keys the audit log's hash chain)"
    )

# A connection pool per process unless OPORA_DB_POOL_MAX=0 (base.database_config).
DATABASES = {"default": database_config(DATABASE_URL, pool_by_default=True)}
DEBUG = False
OPORA_STAFF_2FA = env_bool("OPORA_STAFF_2FA", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("OPORA_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("OPORA_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
EMAIL_BACKEND = os.environ.get("OPORA_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
