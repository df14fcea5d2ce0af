from django.urls import path

from opora.quality import views

app_name = "quality"

urlpatterns = [
    # The parent's questionnaire, by the link in the notice (a bearer secret).
    path("q/<str:token>/", views.evaluation_page, name="evaluation"),
    path("q/<str:token>/draft/", views.evaluation_draft, name="evaluation_draft"),
    # Staff: the head's results, the consultant's own aggregates.
    path("quality/results/", views.results, name="results"),
    path("quality/mine/", views.my_results, name="my_results"),
]
