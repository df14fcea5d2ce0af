"""ASGI entry point: HTTP through Django, WebSockets through Channels (routes grow with the rooms)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, cast

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opora.settings.local")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from opora.consultations.routing import websocket_urlpatterns  # noqa: E402

if TYPE_CHECKING:
    from channels.routing import _ExtendedURLPattern

# channels-stubs want their own (type-check-only) kind of URL pattern, but Django's `path()` is
# typed to return a plain URLPattern; at run time these are the same objects channels routes.
websocket_routes = cast("list[_ExtendedURLPattern | URLRouter]", websocket_urlpatterns)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_routes))),
    }
)
