"""In-country data residency (issue 15; 152-FZ art. 18 §5, Kazakhstan's Law No. 94-V art. 12):
the database, the cache and broker (Redis), file storage and mail servers must be on hosts of the
configured allow-list, `OPORA_DATA_HOSTS_ALLOWED` (comma-separated host names, `.suffix` domains
and IP addresses or CIDR networks).

A host name matches an allowed name or suffix as written; otherwise it is resolved and every
address must fall in an allowed network. Local sockets (no host, a path) are the machine itself.
The system check (`opora.E015` / `opora.W015`) looks at the settings in production; `opora
check_residency` also looks at the mailboxes' IMAP and SMTP servers stored in the database.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core import checks

Resolver = Callable[[str], list[str]]


@dataclass(frozen=True)
class HostUse:
    what: str  # "database default", "cache default", "mailbox 3 IMAP"...
    host: str


def _resolve(host: str) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
    except OSError:
        return []


def _url_host(url: str) -> str:
    if not url or "://" not in url:
        return ""
    return urlsplit(url).hostname or ""


def settings_hosts() -> list[HostUse]:
    """Every data host the settings name."""
    uses: list[HostUse] = []
    for alias, db in settings.DATABASES.items():
        host = str(db.get("HOST") or "")
        if host and not host.startswith("/"):
            uses.append(HostUse(f"database {alias}", host))
    for alias, cache in getattr(settings, "CACHES", {}).items():
        locations = cache.get("LOCATION") or ""
        for loc in [locations] if isinstance(locations, str) else list(locations):
            if host := _url_host(str(loc)):
                uses.append(HostUse(f"cache {alias}", host))
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        if host := _url_host(str(getattr(settings, name, "") or "")):
            uses.append(HostUse(name, host))
    for alias, storage in getattr(settings, "STORAGES", {}).items():
        options = storage.get("OPTIONS") or {}
        for key in ("endpoint_url", "custom_domain", "location", "url"):
            value = str(options.get(key) or "")
            host = _url_host(value) or (value if key == "custom_domain" else "")
            if host:
                uses.append(HostUse(f"storage {alias}", host))
    email_host = str(getattr(settings, "EMAIL_HOST", "") or "")
    if email_host:
        uses.append(HostUse("EMAIL_HOST", email_host))
    return uses


def mailbox_hosts() -> list[HostUse]:
    """The IMAP and SMTP servers of the mailboxes (rows of the mail app, read by name)."""
    if not apps.is_installed("opora.mail"):
        return []
    mailbox = apps.get_model("mail", "Mailbox")
    uses: list[HostUse] = []
    for pk, imap, smtp in mailbox.objects.values_list("pk", "imap_host", "smtp_host"):
        if imap:
            uses.append(HostUse(f"mailbox {pk} IMAP", imap))
        if smtp:
            uses.append(HostUse(f"mailbox {pk} SMTP", smtp))
    return uses


def _allowed(entries: Iterable[str]) -> tuple[set[str], list[str], list[Any]]:
    names: set[str] = set()
    suffixes: list[str] = []
    networks: list[Any] = []
    for raw in entries:
        entry = raw.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        if entry.startswith("."):
            suffixes.append(entry)
        else:
            names.add(entry)
    return names, suffixes, networks


def host_allowed(host: str, entries: Iterable[str], *, resolve: Resolver = _resolve) -> bool:
    names, suffixes, networks = _allowed(entries)
    host = host.strip().lower().strip("[]")
    if host in names or any(host.endswith(s) for s in suffixes):
        return True
    try:
        addresses = [host] if ipaddress.ip_address(host) else []
    except ValueError:
        addresses = resolve(host)
    if not addresses or not networks:
        return False
    return all(any(ipaddress.ip_address(a) in n for n in networks) for a in addresses)


def outside(
    uses: Iterable[HostUse], entries: Iterable[str], *, resolve: Resolver = _resolve
) -> list[HostUse]:
    """The uses whose host is not on the allow-list."""
    entries = list(entries)
    return [u for u in uses if not host_allowed(u.host, entries, resolve=resolve)]


@checks.register(checks.Tags.security, deploy=False)
def residency_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Production only: a data host outside the allow-list is an error; no list is a warning."""
    if not getattr(settings, "OPORA_PRODUCTION", False):
        return []
    entries = list(getattr(settings, "OPORA_DATA_HOSTS_ALLOWED", []) or [])
    if not entries:
        return [
            checks.Warning(
                "OPORA_DATA_HOSTS_ALLOWED is not set: the data hosts are not checked to be "
                "in the country.",
                hint="Set it to the in-country hosts and networks (comma-separated).",
                id="opora.W015",
            )
        ]
    return [
        checks.Error(
            f"{use.what} is on {use.host}, which is not on OPORA_DATA_HOSTS_ALLOWED.",
            hint="Move the data in the country, or add the host if it is in the country.",
            id="opora.E015",
        )
        for use in outside(settings_hosts(), entries)
    ]
