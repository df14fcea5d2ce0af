"""The default consent to personal-data processing, shown where a service has none of its own.

Kept here (not only in the data migration) so that the migration and the portal agree on one text,
and a database emptied by tests gets it back on first use.
"""

from __future__ import annotations

from typing import Any

DEFAULT_CONSENT_VERSION = "portal-2026-1"

DEFAULT_CONSENT_RU = (
    "Я даю согласие службе, в которую направляю заявку, на обработку моих персональных данных "
    "(фамилия, имя, отчество, ИИН, контактный телефон, адрес электронной почты, возраст ребёнка и "
    "сведения, которые я сообщаю в заявке) с целью регистрации заявки, записи на консультацию, "
    "связи со мной и оказания консультационной помощи. Данные хранятся и обрабатываются только "
    "сотрудниками службы, в отчётах общего пользования заменяются кодом и не передаются третьим "
    "лицам, кроме случаев, предусмотренных законом. Согласие действует до достижения цели "
    "обработки; я могу отозвать его, написав или позвонив в службу."
)
DEFAULT_CONSENT_KK = (
    "Мен өтінім жіберетін қызметке менің дербес деректерімді (тегі, аты, әкесінің аты, ЖСН, "
    "байланыс телефоны, электрондық пошта мекенжайы, баланың жасы және өтінімде хабарлайтын "
    "мәліметтер) өтінімді тіркеу, консультацияға жазу, менімен байланысу және консультациялық "
    "көмек көрсету мақсатында өңдеуге келісім беремін. Деректерді тек қызмет қызметкерлері "
    "сақтайды және өңдейді, жалпы пайдаланудағы есептерде код арқылы ауыстырылады және заңда "
    "көзделген жағдайлардан басқа үшінші тұлғаларға берілмейді. Келісім өңдеу мақсатына жеткенге "
    "дейін әрекет етеді; мен оны қызметке жазып немесе қоңырау шалып кері қайтара аламын."
)
DEFAULT_CONSENT_EN = (
    "I consent to the service I am sending this request to processing my personal data (last "
    "name, first name, patronymic, IIN, phone, e-mail address, the child's age and what I write in "
    "the request) in order to register the request, book a consultation, contact me and give "
    "consulting help. Only the service's staff keep and process the data; in reports for general "
    "use they are replaced by a code, and they are not passed to third parties except where the "
    "law requires it. The consent is valid until the purpose is reached; I may withdraw it by "
    "writing to or calling the service."
)


def default_consent_get_or_create(consent_model: Any) -> Any:
    """The global (no service) default consent text, created if missing. Idempotent."""
    consent, _created = consent_model.objects.get_or_create(
        service=None,
        version=DEFAULT_CONSENT_VERSION,
        defaults={
            "text_ru": DEFAULT_CONSENT_RU,
            "text_kk": DEFAULT_CONSENT_KK,
            "text_en": DEFAULT_CONSENT_EN,
        },
    )
    return consent
