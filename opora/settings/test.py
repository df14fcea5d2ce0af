"""Test preset: PostgreSQL from DATABASE_URL when given (make test sets it), fast hashing, locmem mail."""

from .base import *  # noqa: F403

SECRET_KEY = "opora-test-key"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
CHANNEL_LAYERS = {"default": {"BACKEND": "opora.consultations.layers.InMemoryChannelLayer"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each test process its own counters (the shared stores are tested in core/tests/test_ratelimit.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The whole suite comes from one address in one process: only the limits' own tests count low.
OPORA_RATE_LIMITS = {
    "portal-form": (100_000, 3600),
    "portal-code": (100_000, 3600),
    "api-token": (100_000, 60),
    "api-address": (100_000, 60),
}
OPORA_SMS_BACKEND = "opora.notifications.sms.OutboxSmsBackend"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise wants it to exist
