"""Complaint pages: the portal's under /s/<service>/complaint/, the staff's under /complaints/.
Mounted at the root by one line in opora/urls.py (before the portal's catch-all pages)."""

from django.urls import path

from opora.complaints import views

app_name = "complaints"

urlpatterns = [
    path("s/<slug:code>/complaint/", views.portal_new, name="portal_new"),
    path("s/<slug:code>/complaint/follow/", views.portal_follow, name="portal_follow"),
    path("s/<slug:code>/complaint/disagree/", views.portal_disagree, name="portal_disagree"),
    path("complaints/", views.complaint_list, name="list"),
    path("complaints/new/", views.complaint_new, name="new"),
    path("complaints/authority/", views.authority_list, name="authority"),
    path("complaints/<int:complaint_id>/", views.complaint_detail, name="detail"),
]
