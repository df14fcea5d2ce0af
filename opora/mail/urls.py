"""URLs of the mail app (mounted at /mail/)."""

from django.urls import path

from opora.mail import views

app_name = "mail"

urlpatterns = [
    path("written/", views.written_list, name="written"),
    path("written/<int:pk>/", views.thread, name="thread"),
    path("written/<int:pk>/assign/", views.assign, name="assign"),
    path(
        "written/<int:pk>/letters/<int:letter_pk>/complaint/",
        views.letter_complaint,
        name="letter_complaint",
    ),
    path("written/<int:pk>/take-up/", views.take_up, name="take_up"),
    path("written/<int:pk>/close/", views.close_written, name="close_written"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("quarantine/", views.quarantine, name="quarantine"),
    path("quarantine/<int:pk>/release/", views.release, name="release"),
]
