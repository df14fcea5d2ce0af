from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.urls import path

from opora.consultations.consumers import RoomConsumer

if TYPE_CHECKING:
    from channels.routing import URLRouter, _ExtendedURLPattern


def _ws(route: str, app: Any) -> _ExtendedURLPattern:
    """A WebSocket route: Channels routes ASGI applications through Django's `path`, which
    django-stubs type for views only."""
    return cast("_ExtendedURLPattern", path(route, app))


websocket_urlpatterns: list[_ExtendedURLPattern | URLRouter] = [
    _ws("ws/room/c/<str:token>/", RoomConsumer.as_asgi()),
    _ws("ws/room/<int:consultation_id>/", RoomConsumer.as_asgi()),
]
