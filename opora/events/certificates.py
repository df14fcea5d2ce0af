"""The certificate of participation as a PDF (WeasyPrint, DejaVu Sans for Cyrillic and Kazakh)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import reverse

from opora.core.links import public_url
from opora.events.models import Certificate


def certificate_pdf(certificate: Certificate) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]  # no stubs, no py.typed

    html = render_to_string(
        "events/certificate_pdf.html",
        {
            "certificate": certificate,
            "verify_url": public_url(reverse("events:verify", args=[certificate.code])),
        },
    )
    return HTML(string=html).write_pdf()
