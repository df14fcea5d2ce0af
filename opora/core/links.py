"""Absolute public addresses: the one place a path becomes a link someone can tap.

Every notice, calendar file and messenger reply builds its links here, from the one setting
`OPORA_PUBLIC_URL` (which `make run` derives from `PORT`), so a link never points elsewhere than
the site that sent it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def public_base() -> str:
    """`OPORA_PUBLIC_URL` without a trailing slash."""
    return (getattr(settings, "OPORA_PUBLIC_URL", "") or "").rstrip("/")


def public_url(path: str) -> str:
    """The absolute public address of `path` (a site path such as `reverse(...)` returns)."""
    if not path.startswith("/"):
        path = "/" + path
    return public_base() + path


def public_host() -> str:
    """The host name of the public address ("opora.local" when it has none)."""
    return urlsplit(public_base()).hostname or "opora.local"
