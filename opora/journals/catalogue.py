"""The one list of the journals' forms: code → title, columns and where the headings come from.

Titles and column headings are the regulations' words, verbatim (`shared/regulations/` beside the repository):
the same in every interface language, since the journal is the service's document.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class JournalForm:
    code: str
    title: str
    columns: tuple[str, ...]
    source: str  # the regulation and appendix the headings are copied from
    # Lines the paper form prints above its table («ФИО специалиста _____ Должность _____»).
    header_lines: tuple[str, ...] = field(default=())
    # Only the service copy names the persons; every other copy codes them (regulation 004).
    coded_by_default: bool = False
    widths: tuple[int, ...] = field(default=())


REQUESTS_002 = JournalForm(
    code="requests-002",
    title="Журнал регистрации заявок на дистанционное консультирование (д/к)",
    columns=(
        "№",
        "Дата заявки",
        "От кого поступила заявка",
        "ФИО несовершеннолетнего, возраст",
        "Ф.И.О. законного представителя",
        "Обращение первичное/вторичное",
        "Повод обращения",
        "ФИО ответственного за д/к специалиста",
    ),
    source="002, Приложение 2",
    widths=(5, 12, 22, 26, 30, 16, 40, 28),
)

# Appendix 3 names the specialist in the form's header; a service-wide journal of several
# specialists also carries «ФИО специалиста» as a column after the date, so each row says whose
# consultation it was. The header's «Должность» is filled when one consultant is chosen.
CONSULTATIONS_002 = JournalForm(
    code="consultations-002",
    title="Журнал учета он-лайн консультирования",
    columns=(
        "№",
        "Дата консультации, продолжительность",
        "ФИО специалиста",
        "Ф.И. ребенка",
        "Возраст",
        "Законный представитель Ф.И.О.",
        "Вид консультации (первичная/повторная)",
        "Причина обращения со слов З/П",
        "Тематика консультирования",
        "Примечание",
    ),
    source="002, Приложение 3",
    header_lines=("ФИО специалиста", "Должность"),
    widths=(5, 20, 26, 24, 8, 30, 18, 40, 28, 28),
)

# The participants of the held group consultations (events, registered in `journals.sources`):
# one row per registration that joined; a period of several consultations dates each row's note.
PARTICIPANTS_002 = JournalForm(
    code="participants-002",
    title="Реестр участников группового онлайн консультирования",
    columns=("№ п/п", "Фамилия, имя, отчество клиента", "Примечание"),
    source="002, Приложение 3",
    header_lines=("Дата консультации", "ФИО специалиста", "Тематика консультирования"),
    widths=(6, 40, 40),
)

# The appendix prints the table turned on its side, last column first; this is the reading order.
APPEALS_003 = JournalForm(
    code="appeals-003",
    title="Журнал учета обращений граждан в дистанционную приемную",
    columns=(
        "№ п/п",
        "Дата обращения в дистанционную приемную",
        "Канал обращения в дистанционную приемную",
        "Фамилия, имя, отчество обратившегося получателя социальных услуг",
        "Дата консультации",
        "Форма дистанционного консультирования",
        "Тема консультации",
        "Фамилия, имя, отчество специалиста, оказывающего консультацию/должность",
        "Результат консультирования",
        "Примечания",
    ),
    source="003, Приложение 2",
    widths=(6, 17, 16, 30, 17, 18, 30, 34, 30, 28),
)

# Regulation 004 refers to the form of its Appendix 3, which is not in the text we have. The
# columns are designed from what the regulation asks the journal to show: the fact of every
# service (§ "Факт оказания Услуги фиксируется в Журнале"), its kind (dispatcher or content
# consulting) and form (in person, remote, written answer), the topic of the request, and the
# person — «Фамилия Имя Отчество (при наличии) получателя Услуги», the regulation's own words —
# which every general-use copy writes as a code («Анонимно» for an anonymous client).
SERVICES_004 = JournalForm(
    code="services-004",
    title="Журнал учета Услуг",
    columns=(
        "№ п/п",
        "Дата обращения",
        "Код получателя Услуги",
        "Фамилия Имя Отчество (при наличии) получателя Услуги",
        "Вид Услуги",
        "Форма оказания Услуги",
        "Тема запроса",
        "Консультант",
    ),
    source="004 (форма Приложения 3 отсутствует в тексте; графы по требованиям рекомендаций)",
    coded_by_default=True,
    widths=(6, 14, 16, 34, 30, 18, 40, 28),
)

# Regulation 003 Appendix 1, kept in Word and published on the service's site each month (the
# portal's schedule page, `portal.schedule`): topic and target group are the schedule's periods'.
SCHEDULE_003 = JournalForm(
    code="schedule-003",
    title="График плановых дистанционных консультаций специалистов",
    columns=(
        "Тема консультации",
        "Целевая группа",
        "ФИО специалиста/должность",
        "Форма дистанционного консультирования",
        "Дата проведения консультации",
    ),
    source="003, Приложение 1",
    header_lines=("Месяц",),
    widths=(34, 24, 34, 30, 26),
)

FORMS: dict[str, JournalForm] = {
    f.code: f
    for f in (
        REQUESTS_002,
        CONSULTATIONS_002,
        PARTICIPANTS_002,
        APPEALS_003,
        SCHEDULE_003,
        SERVICES_004,
    )
}
FORMATS = ("xlsx", "docx", "pdf", "csv", "json")
