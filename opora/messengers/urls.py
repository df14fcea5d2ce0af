"""URLs of the messengers app (mounted at /messengers/)."""

from django.urls import path

from opora.messengers import views

app_name = "messengers"

urlpatterns = [
    path("conversations/", views.conversation_list, name="conversations"),
    path("conversations/<int:pk>/", views.conversation_detail, name="conversation"),
    path("conversations/<int:pk>/take-up/", views.take_up, name="take_up"),
    path("conversations/<int:pk>/close/", views.close_written, name="close_written"),
    # A consultant's file through its signed, expiring link (Viber fetches it; issue 12).
    path("f/<str:token>/", views.reply_file, name="reply_file"),
    path("<str:channel>/<slug:slug>/webhook/", views.webhook, name="webhook"),
]
