"""`{% events_coming service %}`: the service's coming events on its portal page."""

from __future__ import annotations

from typing import Any

from django import template

from opora.core.models import Service
from opora.events import selectors

register = template.Library()


@register.inclusion_tag("events/_coming.html")
def events_coming(service: Service) -> dict[str, Any]:
    return {"events": selectors.events_coming(service=service), "service": service}
