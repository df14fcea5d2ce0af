"""The consent a complainant gives on the portal: the complaint is processed to review it."""

from django.utils.translation import gettext_lazy as _

CONSENT_VERSION = "complaint-2026-1"

CONSENT_TEXT = _(
    "I consent to the service processing the data in this complaint (name, phone, e-mail, the "
    "request code and what I write) to register, review and answer it, and to the authority "
    "reviewing it if I disagree with the answer. The data are seen only by those who review the "
    "complaint and are not passed to third parties except where the law requires it."
)
