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
    # Every form of help (issue 12): help now, face to face.
    path("consultations/now/<int:request_id>/", views.start_now, name="start_now"),
    path(
        "consultant/consultations/<int:consultation_id>/in-person/",
        views.face_to_face,
        name="face_to_face",
    ),
    path(
        "consultant/consultations/<int:consultation_id>/held/",
        views.mark_held,
        name="mark_held",
    ),
    path(
        "consultant/consultations/<int:consultation_id>/client-records/",
        views.client_records,
        name="client_records",
    ),
    # Technical failures (regulation 002 §4.2.1) and the consultant's preparation (§4.2).
    path("consultations/failures/", views.failures, name="failures"),
    path(
        "consultations/failures/<int:failure_id>/accept/",
        views.failure_accept,
        name="failure_accept",
    ),
    path(
        "consultations/failures/<int:failure_id>/reject/",
        views.failure_reject,
        name="failure_reject",
    ),
    path(
        "consultant/failures/<int:failure_id>/new-time/",
        views.failure_pick,
        name="failure_pick",
    ),
    path(
        "consultant/consultations/<int:consultation_id>/new-time/",
        views.failure_new_time,
        name="failure_new_time",
    ),
    path(
        "consultant/room/booking/<int:booking_id>/preparation/",
        views.preparation_for_booking,
        name="preparation_for_booking",
    ),
    path(
        "consultant/consultations/<int:consultation_id>/preparation/",
        views.preparation,
        name="preparation",
    ),
    path(
        "consultant/consultations/<int:consultation_id>/preparation/probe/",
        views.preparation_probe,
        name="preparation_probe",
    ),
    # The client's side, by the personal link.
    path("c/<str:token>/check/speed/", views.speed_test, name="speed_test"),
    path("c/<str:token>/recording/", views.client_recording_status, name="client_recording_status"),
    path("c/<str:token>/files/", views.client_file_upload, name="client_file_upload"),
    path("c/<str:token>/files/<int:seq>/", views.client_file, name="client_file"),
    # The consultant's side.
    path(
        "consultant/consultations/<int:consultation_id>/files/",
        views.consultant_file_upload,
        name="consultant_file_upload",
    ),
    path(
        "consultant/consultations/<int:consultation_id>/files/<int:seq>/",
        views.consultant_file,
        name="consultant_file",
    ),
    path(
        "consultant/consultations/<int:consultation_id>/recordings/",
        views.recording_start,
        name="recording_start",
    ),
    path(
        "consultant/recordings/<int:recording_id>/chunks/<int:seq>/",
        views.recording_chunk,
        name="recording_chunk",
    ),
    path(
        "consultant/recordings/<int:recording_id>/finish/",
        views.recording_finish,
        name="recording_finish",
    ),
    path(
        "consultant/consultations/<int:consultation_id>/next/",
        views.next_booking,
        name="next_booking",
    ),
    # The head's side.
    path("consultations/recordings/", views.recordings, name="recordings"),
    path(
        "consultations/recordings/<int:recording_id>/",
        views.recording_detail,
        name="recording_detail",
    ),
    path(
        "consultations/recording-releases/<int:release_id>/handed-over/",
        views.recording_release_done,
        name="recording_release_done",
    ),
]
