from django.urls import path

from opora.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("draft/", views.report_draft, name="draft"),
    path("<int:report_id>/", views.report_detail, name="detail"),
    path("<int:report_id>/file.<str:fmt>", views.report_download, name="download"),
]
