import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from opora.notifications.models import SHORT_CODE_ALPHABET, Notification, ShortLink
from opora.notifications.selectors import shortlink_get
from opora.notifications.services import (
    notification_send_to_client,
    shortlink_for,
    shortlink_url,
)
from opora.notifications.sms import sms_fit, sms_segments


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # an extension character takes two septets
        ("€" * 81, 2),
        ("я" * 70, 1),  # any Cyrillic letter makes the message UCS-2
        ("я" * 71, 2),
        ("я" * 134, 2),
        ("я" * 135, 3),
        ("a" * 133 + "ә", 2),  # one Kazakh letter turns 134 Latin characters into UCS-2
        ("😀" * 35, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, 2),
    ],
)
def test_sms_segments(text, segments):
    assert sms_segments(text) == segments


def test_sms_fit_takes_the_fullest_that_fits():
    assert sms_fit(["я" * 200, "я" * 134, "я"]) == "я" * 134
    assert sms_fit(["я" * 200, "я" * 150]) == "я" * 150  # none fits: the barest


@pytest.mark.django_db
def test_one_short_link_per_target_kept_alive_by_later_notices(settings):
    settings.OPORA_PUBLIC_URL = "http://127.0.0.1:8811"
    soon = timezone.now() + dt.timedelta(days=1)
    later = soon + dt.timedelta(days=10)
    first = shortlink_for(target_type="intake.servicerequest", target_id="7", expires_at=soon)
    second = shortlink_for(target_type="intake.servicerequest", target_id="7", expires_at=later)
    assert first.pk == second.pk and ShortLink.objects.get().expires_at == later
    other = shortlink_for(target_type="intake.servicerequest", target_id="8", expires_at=soon)
    assert other.code != first.code
    code = first.code
    assert len(code) >= 10 and set(code) <= set(SHORT_CODE_ALPHABET)
    assert not set(SHORT_CODE_ALPHABET) & set("01OIl")
    assert shortlink_url(first) == f"http://127.0.0.1:8811/l/{code}"
    assert shortlink_get(code=code.lower()).pk == first.pk
    ShortLink.objects.filter(pk=first.pk).update(expires_at=timezone.now())
    assert shortlink_get(code=code) is None
    assert shortlink_get(code="") is None and shortlink_get(code="0" * 12) is None


@pytest.mark.django_db
def test_email_has_the_html_button_and_sms_its_short_text(django_capture_on_commit_callbacks):
    from opora.core.models import Region

    about = Region.objects.first()
    assert about is not None
    html = '<p>Запись</p><a href="https://opora.example.kz/l/ABCDEFGHJKMN">Открыть</a>'
    with django_capture_on_commit_callbacks(execute=True):
        notification_send_to_client(
            kind="booking_created",
            subject="Запись",
            body="Полный текст https://opora.example.kz/l/ABCDEFGHJKMN",
            sms_body="Коротко https://opora.example.kz/l/ABCDEFGHJKMN",
            html_body=html,
            action_url="https://opora.example.kz/l/ABCDEFGHJKMN",
            action_label="Открыть",
            about=about,
            phone="+77010000001",
            email="parent@example.org",
        )
    sms = Notification.objects.get(channel="sms")
    assert sms.body.startswith("Коротко") and sms.html_body == ""
    (message,) = mail.outbox
    assert message.body.startswith("Полный текст")
    assert message.alternatives[0][1] == "text/html" and message.alternatives[0][0] == html
    row = Notification.objects.get(channel="email")
    assert row.html_body == html and row.action_label == "Открыть"
