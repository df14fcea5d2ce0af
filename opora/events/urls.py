from django.urls import path

from opora.events import recording_views, views

app_name = "events"

urlpatterns = [
    path("events/<int:pk>/register/", views.register, name="register"),
    path("e/<str:token>/", views.registration_page, name="registration"),
    path("e/<str:token>/cancel/", views.registration_cancel_view, name="cancel"),
    path("e/<str:token>/room/", views.room, name="room"),
    path("e/<str:token>/presence/", views.presence, name="presence"),
    path("e/<str:token>/messages/", views.messages_view, name="messages"),
    path("e/<str:token>/certificate.pdf", views.certificate_download, name="certificate"),
    path(
        "e/<str:token>/recording-consent/",
        recording_views.recording_consent,
        name="recording_consent",
    ),
    path("verify/<str:code>/", views.verify, name="verify"),
    path("staff/events/", views.staff_events, name="staff_events"),
    path("staff/events/new/", views.staff_event_new, name="staff_event_new"),
    path("staff/events/<int:pk>/", views.staff_event, name="staff_event"),
    path("staff/events/<int:pk>/edit/", views.staff_event_edit, name="staff_event_edit"),
    path("staff/events/<int:pk>/cancel/", views.staff_event_cancel, name="staff_event_cancel"),
    path("staff/events/<int:pk>/room/", views.staff_room, name="staff_room"),
    path("staff/events/<int:pk>/presence/", views.staff_presence, name="staff_presence"),
    path("staff/events/<int:pk>/messages/", views.staff_messages, name="staff_messages"),
    path("staff/events/<int:pk>/moderate/", views.staff_moderate, name="staff_moderate"),
    path(
        "staff/events/<int:pk>/recording/start/",
        recording_views.staff_recording_start,
        name="staff_recording_start",
    ),
    path(
        "staff/events/recordings/<int:recording_id>/",
        recording_views.staff_recording_detail,
        name="staff_recording",
    ),
    path(
        "staff/events/recordings/<int:recording_id>/chunk/<int:seq>/",
        recording_views.staff_recording_chunk,
        name="staff_recording_chunk",
    ),
    path(
        "staff/events/recordings/<int:recording_id>/finish/",
        recording_views.staff_recording_finish,
        name="staff_recording_finish",
    ),
]
