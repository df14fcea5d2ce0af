"""The classes of questions a consultant is competent for, and the languages of help.

The seven topic classes are those of regulation 002 Appendix 3 («Тематика консультирования»,
`consultations.models.Topic`, whose crisis subtypes 6.1–6.3 fall into class 6). They live here,
on the staff floor, because both a request (intake) and a consultant's specialty (accounts) name
them, and the booking grid (scheduling) compares the two.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TopicClass(models.TextChoices):
    FAMILY = "1", _("1. Family problems")
    PERSONAL = "2", _("2. Personal problems")
    MALADJUSTMENT = "3", _("3. Social maladjustment")
    INTERPERSONAL = "4", _("4. Interpersonal problems")
    LEARNING = "5", _("5. Learning problems")
    CRISIS = "6", _("6. Crisis situations")
    LEGAL = "7", _("7. Legal assistance")


def topic_class_of(topic: str) -> str:
    """The class of a protocol topic ("6.2" → "6"); "" for none."""
    return topic.split(".", 1)[0] if topic else ""


class LanguageCode(models.TextChoices):
    RUSSIAN = "ru", _("Russian")
    KAZAKH = "kk", _("Kazakh")
    ENGLISH = "en", _("English")
