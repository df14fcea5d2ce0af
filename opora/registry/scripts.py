"""What the operator says after an eligibility check (regulation 001 §3.3 and §3.4).

The answers are polite and neutral: they never say whose data the registry holds, never blame the
caller, and a refusal always says why and what the caller can do next.
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from opora.registry.models import EligibilityCheck

Reason = EligibilityCheck.Reason

SCRIPTS: dict[str, Promise] = {
    # §3.4: confirmed — go on to fill in the request and book (items 4–9 of the procedure).
    Reason.ELIGIBLE_CBD: _(
        "Thank you, your data have been confirmed: you are registered as a recipient of the benefit "
        "for raising a child with disability. Let us now register your request and choose a "
        "convenient time for the online consultation."
    ),
    Reason.ELIGIBLE_CBDI: _(
        "Thank you, your data have been confirmed: the child with disability is registered. "
        "Let us now register your request and choose a convenient time for the online consultation."
    ),
    # §3.3: not registered — say so in the regulation's words and refuse with courtesy.
    Reason.NOT_REGISTERED: _(
        "I am sorry, but no recipient of the benefit for raising a child with disability, and no "
        "child with disability, is registered under this IIN. Unfortunately, we therefore cannot "
        "provide psychological help and consultations through this service. If you think this is a "
        "mistake, please check your data with the office that awards your benefit. Thank you for "
        "calling, and I wish you and your family all the best."
    ),
    Reason.INACTIVE: _(
        "I am sorry, but no active recipient of the benefit for raising a child with disability is "
        "registered under this IIN. Unfortunately, we therefore cannot provide psychological help and "
        "consultations through this service now. If you think this is a mistake, please check the "
        "status of your benefit with the office that awards it; once it is active again, you are "
        "welcome to call us. Thank you for calling."
    ),
    Reason.NAME_MISMATCH: _(
        "I am sorry, but the full name you gave does not match the registry data for this IIN. "
        "Please tell me your last name, first name and patronymic exactly as in your identity "
        "document, and the IIN once more. If they still do not match, unfortunately we cannot "
        "register a request for you; please check your data with the office that awards your "
        "benefit. Thank you for your understanding."
    ),
    Reason.DISABILITY_EXPIRED: _(
        "I am sorry, but the disability registered under this IIN is no longer valid in the registry. "
        "Unfortunately, we therefore cannot provide psychological help and consultations through "
        "this service now. Once the disability has been confirmed again, you are welcome to call us. "
        "Thank you for calling, and I wish you and your family all the best."
    ),
}


def eligibility_script(reason: str) -> str:
    """The operator's answer for an EligibilityCheck.Reason, in the active language."""
    return str(SCRIPTS[reason])
