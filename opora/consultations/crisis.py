"""Crisis protocol text and emergency numbers by the service's country (shown in the room)."""

from django.utils.translation import gettext_lazy as _

# (number, what it is). Country codes as in opora.core.models.Country.
EMERGENCY_NUMBERS: dict[str, list[tuple[str, object]]] = {
    "KZ": [
        ("112", _("Single emergency number")),
        ("102", _("Police")),
        ("103", _("Ambulance")),
        ("150", _("Helpline for children and young people")),
    ],
    "RU": [
        ("112", _("Single emergency number")),
        ("8-800-2000-122", _("Children's helpline")),
    ],
}

CRISIS_STEPS = [
    _("Stay with the client; do not end the consultation abruptly."),
    _(
        "If there is an immediate danger to life, call the emergency number below or ask the client to."
    ),
    _("Find out where the client and the child are now and who is with them."),
    _("The head has been alerted; follow the head's instructions."),
    _("Record what happened in the protocol with a crisis topic."),
]


def emergency_numbers(country: str) -> list[tuple[str, object]]:
    return EMERGENCY_NUMBERS.get(country, EMERGENCY_NUMBERS["RU"][:1])
