"""URLs of questionnaires, mounted at the site root (one include in opora/urls.py): the client's
under /s/ beside the portal, the staff's under /staff/surveys/."""

from django.urls import path

from opora.surveys import views

app_name = "surveys"

urlpatterns = [
    path("s/survey/<str:token>/", views.fill, name="fill"),
    path("s/survey/<str:token>/done/", views.done, name="done"),
    path("s/<slug:code>/survey/", views.portal_list, name="portal_list"),
    path("s/<slug:code>/survey/<slug:instrument>/", views.portal_start, name="portal_start"),
    path("staff/surveys/", views.instruments, name="instruments"),
    path("staff/surveys/new/", views.instrument_edit, name="instrument_new"),
    path("staff/surveys/instruments/<slug:code>/", views.instrument_edit, name="instrument_edit"),
    path("staff/surveys/build/", views.instrument_build, name="instrument_build_new"),
    path(
        "staff/surveys/instruments/<slug:code>/build/",
        views.instrument_build,
        name="instrument_build",
    ),
    path("staff/surveys/requests/<int:pk>/", views.request_results, name="request_results"),
    path("staff/surveys/results/<int:pk>/", views.result_detail, name="result"),
]
