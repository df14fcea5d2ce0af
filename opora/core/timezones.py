"""Time zones as people name them: «московское время (UTC+3)», not "Europe/Moscow".

Only the display: services keep the IANA name in `Service.time_zone`, and every rule uses it.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Kazakhstan has one zone, UTC+5, since 1 March 2024; every IANA name of the country is "Astana time".
KAZAKHSTAN_ZONES = frozenset(
    {
        "Asia/Almaty",
        "Asia/Astana",
        "Asia/Qostanay",
        "Asia/Qyzylorda",
        "Asia/Aqtobe",
        "Asia/Aqtau",
        "Asia/Atyrau",
        "Asia/Oral",
    }
)
_KAZAKHSTAN = _("Astana time")
ZONE_NAMES: dict[str, Promise] = {
    **dict.fromkeys(sorted(KAZAKHSTAN_ZONES), _KAZAKHSTAN),
    "Europe/Kaliningrad": _("Kaliningrad time"),
    "Europe/Moscow": _("Moscow time"),
    "Europe/Samara": _("Samara time"),
    "Asia/Yekaterinburg": _("Yekaterinburg time"),
    "Asia/Omsk": _("Omsk time"),
    "Asia/Novosibirsk": _("Novosibirsk time"),
    "Asia/Krasnoyarsk": _("Krasnoyarsk time"),
    "Asia/Irkutsk": _("Irkutsk time"),
    "Asia/Yakutsk": _("Yakutsk time"),
    "Asia/Vladivostok": _("Vladivostok time"),
    "Asia/Magadan": _("Magadan time"),
    "Asia/Kamchatka": _("Kamchatka time"),
    "UTC": _("Coordinated Universal Time (UTC)"),
}


def utc_offset(zone: zoneinfo.ZoneInfo, at: dt.datetime | None = None) -> str:
    """ "UTC+3", "UTC+5:30", "UTC-4" at the moment `at` (default: now)."""
    moment = at or timezone.now()
    offset = (moment.astimezone(zone).utcoffset() or dt.timedelta()).total_seconds()
    sign = "-" if offset < 0 else "+"
    hours, rest = divmod(int(abs(offset)), 3600)
    minutes = rest // 60
    if not hours and not minutes:
        return "UTC"
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def _zone_of(value: Any) -> zoneinfo.ZoneInfo | None:
    """A ZoneInfo from an IANA name, a ZoneInfo, or anything with a `time_zone` (a service)."""
    if isinstance(value, zoneinfo.ZoneInfo):
        return value
    name = getattr(value, "time_zone", value)
    if not isinstance(name, str) or not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def zone_label(value: Any, at: dt.datetime | None = None) -> str:
    """«московское время (UTC+3)» in the active language; an unknown zone is «местное время
    (UTC+…)». Never the raw IANA name."""
    zone = _zone_of(value)
    if zone is None:
        return ""
    offset = utc_offset(zone, at)
    name = ZONE_NAMES.get(zone.key)
    if name is None:
        return gettext("local time (%(offset)s)") % {"offset": offset}
    if zone.key == "UTC":
        return str(name)
    return gettext("%(zone)s (%(offset)s)") % {"zone": name, "offset": offset}
