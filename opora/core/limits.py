"""The limits the models set, read once where input is checked against them."""

from __future__ import annotations

from django.db import models


def max_length(model: type[models.Model], name: str) -> int:
    """The `max_length` of the text field `name` of `model` (which must have one)."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.max_length is not None, name
    return int(field.max_length)
