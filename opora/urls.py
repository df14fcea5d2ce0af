from django.contrib import admin
from django.urls import include, path

from opora.api.api import api
from opora.core.views import healthz
from opora.portal.shortlinks import follow_short_link

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("mail/", include("opora.mail.urls")),
    path("messengers/", include("opora.messengers.urls")),
    path("", include("opora.complaints.urls")),  # complaints: /s/<service>/complaint/, /complaints/
    path("", include("opora.surveys.urls")),
    path("s/", include("opora.portal.urls")),
    path("reports/", include("opora.reports.urls")),
    path("l/<str:code>", follow_short_link, name="shortlink"),
    path("l/<str:code>/", follow_short_link),
    path("", include("opora.quality.urls")),
    path("", include("opora.events.urls")),  # events: /events/<id>/register/, /e/<token>/, /verify/
    path("", include("opora.consultations.urls")),
    path("", include("opora.web.urls")),
]
