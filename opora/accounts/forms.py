"""The sign-in form."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError


class SignInForm(AuthenticationForm):
    """Django's sign-in form, with the username's length checked before anyone sees it.

    Django sets the username field's `max_length` after the field is built, so it is not
    validated, and `authenticate()` passes any length on to django-axes, whose column is 255
    characters wide (a 500 from PostgreSQL). No account has a longer name than the field allows:
    such a username is a wrong sign-in, said as every other one is.
    """

    def clean(self) -> dict:
        username = self.data.get(self.add_prefix("username")) or ""
        field = self.fields["username"]
        max_length = (field.max_length if isinstance(field, forms.CharField) else None) or 150
        if len(username) > max_length:
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )
        return super().clean()
