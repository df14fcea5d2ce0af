from django.urls import path

from opora.consultations import views

app_name = "consultations"

urlpatterns = [
    path("c/<str:token>/", views.client_entry, name="client_entry"),
    path("c/<str:token>/check/", views.device_check, name="device_check"),
    path("c/<str:token>/room/", views.client_room, name="client_room"),
    path("consultant/room/<int:consultation_id>/", views.consultant_room, name="consultant_room"),
    path(
        "consultant/room/booking/<int:booking_id>/",
        views.consultant_room_for_booking,
        name="consultant_room_for_booking",
    ),
]
