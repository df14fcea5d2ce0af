from django.urls import path

from opora.consultations.consumers import RoomConsumer

websocket_urlpatterns = [
    path("ws/room/c/<str:token>/", RoomConsumer.as_asgi()),
    path("ws/room/<int:consultation_id>/", RoomConsumer.as_asgi()),
]
