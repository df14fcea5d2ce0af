"""Admin base classes shared by the domains: read-only views, and audited reads of personal data."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from opora.core.audit import audit_record


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through services are shown, never edited, in the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PersonalDataAdmin(ReadOnlyAdmin):
    """Opening one object shows personal data: record the read in the audit log."""

    viewed_event = ""

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, object_id)
        if obj is not None and response.status_code == 200:
            audit_record(
                actor=request.user,
                event_type=self.viewed_event,
                subject=obj,
                extra={"via": "admin"},
            )
        return response
