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
    path(
        "consultant/consultations/<int:consultation_id>/protocol/",
        views.protocol_form,
        name="protocol",
    ),
    path(
        "consultant/consultations/<int:consultation_id>/failure/",
        views.failure_report,
        name="failure",
    ),
    path(
        "consultant/consultations/<int:consultation_id>/no-show/",
        views.no_show,
        name="no_show",
    ),
    path("consultant/consultations/<int:consultation_id>/phone/", views.phone, name="phone"),
    path("consultant/consultations/<int:consultation_id>/crisis/", views.crisis, name="crisis"),
    path("consultations/journal/", views.journal, name="journal"),
]
