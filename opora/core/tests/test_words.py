"""Words as people read them: zones by name, dates in each language's form, a service's texts per
language, translated admin section titles."""

import datetime as dt
import zoneinfo

import pytest
from django.apps import apps
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.formats import date_format

from opora.core.dates import human_date
from opora.core.models import Service
from opora.core.timezones import utc_offset, zone_label

WINTER = dt.datetime(2027, 1, 15, 12, tzinfo=dt.UTC)
SUMMER = dt.datetime(2026, 7, 15, 12, tzinfo=dt.UTC)


# --- time zones -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "moscow", "almaty"),
    [
        ("ru", "московское время (UTC+3)", "время Астаны (UTC+5)"),
        ("kk", "Мәскеу уақыты (UTC+3)", "Астана уақыты (UTC+5)"),
        ("en", "Moscow time (UTC+3)", "Astana time (UTC+5)"),
    ],
)
def test_zone_label_names_the_zone_in_the_language(lang, moscow, almaty):
    with translation.override(lang):
        assert zone_label("Europe/Moscow", WINTER) == moscow
        assert zone_label(zoneinfo.ZoneInfo("Asia/Almaty"), WINTER) == almaty
        # Any Kazakh zone is the one country-wide time since 2024.
        assert zone_label("Asia/Oral", WINTER) == almaty


def test_zone_label_takes_a_service_and_never_shows_the_iana_name():
    service = Service(time_zone="Asia/Yekaterinburg")
    with translation.override("ru"):
        assert zone_label(service, WINTER) == "екатеринбургское время (UTC+5)"
        # A zone without a name of its own: "local time" and the offset, not "America/New_York".
        assert zone_label("America/New_York", WINTER) == "местное время (UTC-5)"
        assert zone_label("America/New_York", SUMMER) == "местное время (UTC-4)"
        assert zone_label("Not/AZone") == ""
        assert zone_label("") == ""


def test_utc_offset_with_minutes_and_zero():
    assert utc_offset(zoneinfo.ZoneInfo("Asia/Kolkata"), WINTER) == "UTC+5:30"
    assert utc_offset(zoneinfo.ZoneInfo("UTC"), WINTER) == "UTC"


# --- dates ------------------------------------------------------------------------------------

DAY = dt.date(2026, 12, 5)  # a Saturday


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "ru",
            {
                "long": "5 декабря 2026",
                "day_month": "5 декабря",
                "month_year": "декабрь 2026",
                "weekday": "суббота, 5 декабря 2026",
                "weekday_short": "сб, 5 декабря",
            },
        ),
        (
            "kk",
            {
                "long": "2026 жылғы 5 желтоқсан",
                "day_month": "5 желтоқсан",
                "month_year": "2026 жылғы желтоқсан",
                "weekday": "сенбі, 2026 жылғы 5 желтоқсан",
            },
        ),
        (
            "en",
            {
                "long": "5 December 2026",
                "day_month": "5 December",
                "month_year": "December 2026",
                "weekday": "Saturday, 5 December 2026",
                "weekday_short": "Sat, 5 December",
            },
        ),
    ],
)
def test_human_date_in_the_languages_form(lang, expected):
    with translation.override(lang):
        for style, text in expected.items():
            assert human_date(DAY, style) == text, style


def test_human_date_filter_month_for_a_sentence_and_aware_datetimes():
    template = Template(
        '{% load opora_text %}{{ month|human_date:"month_year" }}|{{ moment|human_date }}'
    )
    # 22:30 UTC on 31 December is already 1 January in Almaty.
    moment = dt.datetime(2026, 12, 31, 22, 30, tzinfo=dt.UTC)
    with translation.override("ru"), timezone.override(zoneinfo.ZoneInfo("Asia/Almaty")):
        text = template.render(Context({"month": dt.date(2027, 1, 1), "moment": moment}))
    assert text == "январь 2027|1 января 2027"
    with pytest.raises(ValueError, match="unknown date style"):
        human_date(DAY, "fancy")
    assert human_date(None) == ""


def test_django_day_month_format_in_kazakh_is_lower_case():
    # Our catalogue overrides Django's capitalised «5 Желтоқсан» for every |date:"j E".
    with translation.override("kk"):
        assert date_format(DAY, "j E") == "5 желтоқсан"
    with translation.override("ru"):
        assert date_format(DAY, "j E") == "5 декабря"


# --- a service's texts ------------------------------------------------------------------------


def _service(**kw) -> Service:
    return Service(
        name="Служба онлайн поддержки 1411",
        join_instructions="Ссылка придёт по SMS.",
        **kw,
    )


def test_service_text_in_the_active_language_with_russian_fallback():
    service = _service(name_kk="1411 онлайн қолдау қызметі", name_en="Online support 1411")
    with translation.override("kk"):
        assert service.text("name") == "1411 онлайн қолдау қызметі"
        assert service.display_name == "1411 онлайн қолдау қызметі"
        # Not translated: the Russian text.
        assert service.text("join_instructions") == "Ссылка придёт по SMS."
    with translation.override("en"):
        assert service.text("name") == "Online support 1411"
    with translation.override("ru"):
        assert service.text("name") == "Служба онлайн поддержки 1411"
    assert service.text("name", "en") == "Online support 1411"
    assert service.text("name", "en-gb") == "Online support 1411"
    service.name_en = "   "
    assert service.text("name", "en") == "Служба онлайн поддержки 1411"
    with pytest.raises(ValueError, match="not a translated text"):
        service.text("time_zone")


def test_service_text_filter():
    service = _service(join_instructions_en="The link comes by SMS.")
    template = Template('{% load opora_text %}{{ service|service_text:"join_instructions" }}')
    with translation.override("en"):
        assert template.render(Context({"service": service})) == "The link comes by SMS."
    with translation.override("kk"):
        assert template.render(Context({"service": service})) == "Ссылка придёт по SMS."


# --- admin ------------------------------------------------------------------------------------


def test_every_section_title_is_translated():
    ours = [c for c in apps.get_app_configs() if c.name.startswith("opora.")]
    assert len(ours) >= 12
    for config in ours:
        with translation.override("ru"):
            russian = str(config.verbose_name)
        with translation.override("en"):
            english = str(config.verbose_name)
        assert russian != english or config.label == "api", config.label
    with translation.override("ru"):
        assert str(apps.get_app_config("core").verbose_name) == "Справочники и аудит"
        assert str(apps.get_app_config("axes").verbose_name) == "Попытки входа"


@pytest.mark.django_db
def test_admin_index_is_in_russian(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pass-Word-123")
    client.force_login(admin)
    client.cookies["django_language"] = "ru"
    html = client.get("/admin/").content.decode()
    assert "Опора: администрирование" in html
    for title in ("Справочники и аудит", "Клиенты и заявки", "Попытки входа"):
        assert title in html, title
    for english in ("Opora: reference data", "Opora: clients and requests", ">Axes<"):
        assert english not in html, english


@pytest.mark.django_db
def test_admin_edits_the_service_texts_per_language(client, django_user_model, service):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pass-Word-123")
    client.force_login(admin)
    client.cookies["django_language"] = "ru"
    html = client.get(f"/admin/core/service/{service.pk}/change/").content.decode()
    assert "Тексты на казахском языке" in html and "Тексты на английском языке" in html
    for field in ("name_kk", "join_instructions_kk", "complaint_instructions_en"):
        assert f'name="{field}"' in html, field
