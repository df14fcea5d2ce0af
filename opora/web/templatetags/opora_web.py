"""Template helpers: accessible form fields (label, hint and error tied to the input)."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField

register = template.Library()


@register.inclusion_tag("web/partials/field.html")
def field(bf: BoundField, label: str = "", hide_label: bool = False, **attrs: Any) -> dict:
    """Render one field: <label>, hint and error linked to the input with aria-describedby.

    `label` overrides the form's label (e.g. to repeat a row's date for screen readers), and
    `hide_label` keeps it for screen readers only (inside a table with visible column headers);
    other keyword arguments become attributes of the input (`autofocus=True`, `hx_get=...`).
    """
    hint_id = f"{bf.auto_id}-hint" if bf.help_text else ""
    error_id = f"{bf.auto_id}-error" if bf.errors else ""
    widget_attrs = {k.replace("_", "-"): v for k, v in attrs.items()}
    described = " ".join(x for x in (hint_id, error_id) if x)
    if described:
        widget_attrs["aria-describedby"] = described
    if bf.errors:
        widget_attrs["aria-invalid"] = "true"
    is_group = bf.widget_type in {"radioselect", "checkboxselectmultiple"}
    return {
        "bf": bf,
        "label": label or bf.label,
        "hide_label": hide_label,
        "widget": bf.as_widget(attrs=widget_attrs),
        "hint_id": hint_id,
        "error_id": error_id,
        "is_group": is_group,
        "is_hidden": bf.is_hidden,
    }


@register.simple_tag
def query(request: Any, **params: Any) -> str:
    """The current query string with some parameters replaced (for date/month navigation)."""
    q = request.GET.copy()
    for key, value in params.items():
        if value in (None, ""):
            q.pop(key, None)
        else:
            q[key] = value
    return "?" + q.urlencode() if q else "?"
