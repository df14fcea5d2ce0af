"""URLs of the public portal, mounted at /s/. The private link is /s/r/<token>/."""

from django.urls import path

from opora.portal import schedule, views

app_name = "portal"

urlpatterns = [
    path("", views.index, name="index"),
    path("r/<str:token>/", views.follow, name="follow"),
    path("r/<str:token>/received/", views.received, name="received"),
    path("r/<str:token>/book/", views.choose, name="choose"),
    path("r/<str:token>/cancel/", views.cancel, name="cancel"),
    path("r/<str:token>/contacts/", views.contacts_confirm, name="contacts_confirm"),
    path(
        "r/<str:token>/consents/<int:consent_pk>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("r/<str:token>/booking.ics", views.ics, name="ics"),
    path("<slug:code>/", views.service_page, name="service"),
    path("<slug:code>/request/", views.request_new, name="request"),
    path("<slug:code>/anonymous/", views.anonymous_new, name="anonymous"),
    path("<slug:code>/book/", views.book_start, name="book"),
    path("<slug:code>/book/time/", views.book_time, name="book_time"),
    path("<slug:code>/schedule/<str:month>/", schedule.schedule_month, name="schedule_month"),
    path("<slug:code>/schedule/<str:month>.docx", schedule.schedule_docx, name="schedule_docx"),
]
