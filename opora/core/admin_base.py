"""Admin base classes shared by the domains: every save and delete audited, read-only views, and
audited reads of personal data.

Every `ModelAdmin` registered in the admin derives from `AuditedAdminMixin` (a test walks
`admin.site._registry`), so the admin is never a write path without a trace.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import BaseFormSet
from django.http import HttpRequest, HttpResponse

from opora.core.admin_access import admin_allows
from opora.core.audit import AuditEventType, audit_record


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
            if isinstance(field, forms.CharField):
                field.strip = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        for name in self.secret_fields:
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        for name in self.required_secrets:
            if not data.get(name):
                self.add_error(
                    name, forms.ValidationError(self.fields[name].error_messages["required"])
                )
        return data


class AuditedAdminMixin:
    """Audits what the admin writes: a created, changed or deleted object (inline ones too) is an
    audit row with the actor, the model (the row's subject type), the pk and, for a change, the
    NAMES of the changed fields — never their values (passwords, tokens, personal data)."""

    created_event: AuditEventType = AuditEventType.ADMIN_CREATED
    changed_event: AuditEventType = AuditEventType.ADMIN_CHANGED
    deleted_event: AuditEventType = AuditEventType.ADMIN_DELETED

    # Every admin page asks the access policy (`admin.site`, opora.accounts.policy) first, then
    # Django's own permissions (a read-only admin still says no to changes).
    def has_module_permission(self, request: HttpRequest) -> bool:
        return admin_allows(request.user, "module") and super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin_allows(request.user, "view", obj) and super().has_view_permission(  # type: ignore[misc]
            request, obj
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return admin_allows(request.user, "add") and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin_allows(request.user, "change", obj) and super().has_change_permission(  # type: ignore[misc]
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin_allows(request.user, "delete", obj) and super().has_delete_permission(  # type: ignore[misc]
            request, obj
        )

    def _audit(
        self, request: HttpRequest, event: AuditEventType, obj: Model, fields: list[str] | None
    ) -> None:
        extra: dict[str, Any] = {"via": "admin"}
        if fields is not None:
            extra["fields"] = sorted(fields)
        audit_record(actor=request.user, event_type=event, subject=obj, extra=extra)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        # Many-to-many fields (a staff member's services) are saved later, in save_related, but
        # `changed_data` names them already.
        self._audit(
            request,
            self.changed_event if change else self.created_event,
            obj,
            list(form.changed_data),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        # Recorded first: after the delete the object has no pk. The admin's delete view is one
        # transaction, so a delete that fails takes its audit row with it.
        self._audit(request, self.deleted_event, obj, None)
        super().delete_model(request, obj)  # type: ignore[misc]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            self._audit(request, self.deleted_event, obj, None)
        super().delete_queryset(request, queryset)  # type: ignore[misc]

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseFormSet, change: bool
    ) -> None:
        """Inline objects (a service's calendar overrides): each one created, changed or deleted."""
        deleted = [
            f.instance
            for f in getattr(formset, "deleted_forms", [])
            if getattr(f.instance, "pk", None) is not None
        ]
        for obj in deleted:
            self._audit(request, self.deleted_event, obj, None)
        super().save_formset(request, form, formset, change)  # type: ignore[misc]
        for obj in getattr(formset, "new_objects", []):
            self._audit(request, self.created_event, obj, None)
        for obj, fields in getattr(formset, "changed_objects", []):
            self._audit(request, self.changed_event, obj, list(fields))


class AuditedAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The base of every admin of an Opora model."""


def audited(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """`admin_class` (a third-party admin) with its saves and deletes audited."""
    return type(admin_class.__name__, (AuditedAdminMixin, admin_class), {})


class ReadOnlyAdmin(AuditedAdmin):
    """Records that change only through services are shown, never edited, in the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PersonalDataAdmin(ReadOnlyAdmin):
    """Opening one object shows personal data: record the read in the audit log."""

    viewed_event: AuditEventType

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, object_id)
        if obj is not None and response.status_code == 200:
            self.record_view(request, obj)
        return response

    def record_view(self, request: HttpRequest, obj: Any) -> None:
        """Audit the read of `obj`; a domain with a reading selector overrides this to use it."""
        audit_record(
            actor=request.user, event_type=self.viewed_event, subject=obj, extra={"via": "admin"}
        )
