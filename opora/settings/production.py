"""Production: PostgreSQL and Redis required, secrets only from the environment, secure cookies."""

import base64
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

# The blind indexes (keyed hashes that find an IIN, a phone, an e-mail or a name's words) need a key
# of their own: without it base.py derives one from the secret key, so rotating OPORA_SECRET_KEY
# would silently make every encrypted IIN, phone and name unsearchable.
_index_key = os.environ.get("OPORA_INDEX_KEY", "").strip()
if not _index_key:
    raise ImproperlyConfigured(
        "OPORA_INDEX_KEY must be set in production (it keys the blind indexes that search "
        "encrypted IINs, phones, e-mails and names): 32 random bytes in URL-safe base64"
    )
try:  # the format core.crypto.decode_key reads (settings import no app)
    _index_key_bytes = base64.urlsafe_b64decode(_index_key + "==")
except ValueError:
    _index_key_bytes = b""
if len(_index_key_bytes) != 32:
    raise ImproperlyConfigured("OPORA_INDEX_KEY must be 32 bytes in URL-safe base64.")
if _index_key == os.environ.get("OPORA_FIELD_KEY", "").strip():
    raise ImproperlyConfigured(
        "OPORA_INDEX_KEY must differ from OPORA_FIELD_KEY (whoever holds the field key must not "
        "be able to test guesses against the blind indexes)"
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
