"""Reads for notifications: a short link by its code."""

from __future__ import annotations

from django.utils import timezone

from opora.notifications.models import SHORT_CODE_ALPHABET, ShortLink


def shortlink_get(*, code: str) -> ShortLink | None:
    """The live short link with `code` (case and separators forgiven), or None if unknown or
    expired."""
    code = "".join(c for c in (code or "").upper() if c not in "-_ ")
    if not code or len(code) > 32 or any(c not in SHORT_CODE_ALPHABET for c in code):
        return None
    link = ShortLink.objects.filter(code=code).first()
    if link is None or link.expires_at <= timezone.now():
        return None
    return link
