"""Admin base classes shared by the domains: read-only views, and audited reads of personal data."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from opora.core.audit import audit_record


class SecretFieldsForm(forms.ModelForm):
    """An admin form for a model with stored secrets (passwords, tokens): `secret_fields` are
    password inputs that never send the stored value to the browser; left empty, the stored one is
    kept. `required_secrets` must have a value once the form is saved."""

    secret_fields: tuple[str, ...] = ()
    required_secrets: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.secret_fields:
            field = self.fields[name]
            field.widget = forms.PasswordInput(render_value=False)
            field.required = False
            field.strip = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in self.secret_fields:
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        for name in self.required_secrets:
            if not data.get(name):
                self.add_error(
                    name, forms.ValidationError(self.fields[name].error_messages["required"])
                )
        return data


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
