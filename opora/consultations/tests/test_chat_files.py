"""Files in the room's chat (regulation 002 §4.3.2), the device check's speed endpoint and the next
consultation booked from the protocol screen."""

import asyncio
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from opora.accounts.models import Role
from opora.consultations import files, selectors, services
from opora.consultations import recording as crypto
from opora.consultations.models import ChatMessage, Consultation
from opora.consultations.tests.factories import make_live_consultation
from opora.core.errors import DomainError
from opora.core.models import AuditEvent, Service
from opora.demo.factories import make_user
from opora.intake.models import ServiceRequest
from opora.notifications.models import Notification
from opora.registry.iin import make_iin
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"Leaflet: state benefits. " * 20
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
ODT = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.OPORA_RECORDING_ROOT = str(tmp_path / "private")
    with translation.override("en"):
        yield


def _storage_root() -> Path:
    """The directory of the private storage: a disk here (`OPORA_RECORDING_ROOT`)."""
    storage = crypto.private_storage()
    assert isinstance(storage, FileSystemStorage)
    return Path(storage.location)


@pytest.fixture
def live(service, consultant):
    c = make_live_consultation(service, consultant)
    return services.consultation_admit(consultation_id=c.pk, actor=consultant)


class TestFileRules:
    @pytest.mark.parametrize(
        ("name", "data", "ext"),
        [
            ("Памятка.pdf", PDF, "pdf"),
            ("photo.JPEG", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpg"),
            ("scan.png", PNG, "png"),
            ("letter.docx", DOCX, "docx"),
            ("letter.odt", ODT, "odt"),
            ("old.doc", files.OLE2 + b"\x00" * 32, "doc"),
            ("table.xlsx", _zip({"[Content_Types].xml": b"", "xl/workbook.xml": b""}), "xlsx"),
            ("note.txt", "Адрес центра: ул. Абая, 1\n".encode(), "txt"),
        ],
    )
    def test_allowed_types_by_extension_and_content(self, name, data, ext):
        assert files.check_file(name, data)[0] == ext

    @pytest.mark.parametrize(
        ("name", "data", "code", "words"),
        [
            ("setup.exe", b"MZ\x90\x00", "file_type", ["“exe”", "pdf, doc, docx"]),
            ("noext", PDF, "file_type", ["without an extension"]),
            ("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 10, "file_content", [".pdf", "pdf"]),
            ("fake.docx", _zip({"payload.sh": b"rm -rf"}), "file_content", [".docx"]),
            ("bin.txt", b"abc\x00\x01", "file_content", [".txt"]),
            ("empty.pdf", b"", "file_empty", ["empty"]),
        ],
    )
    def test_refusals_name_the_problem(self, name, data, code, words):
        with pytest.raises(DomainError) as exc:
            files.check_file(name, data)
        assert exc.value.code == code
        for word in words:
            assert word in str(exc.value.message)

    def test_the_size_limit_is_named(self, settings):
        settings.OPORA_CHAT_FILE_MAX_BYTES = 1024
        with pytest.raises(DomainError) as exc:
            files.check_file("big.pdf", b"%PDF-" + b"x" * 2000)
        assert exc.value.code == "file_too_large"
        assert "1.0\xa0KB" in str(exc.value.message) or "1.0 KB" in str(exc.value.message)

    def test_refusal_in_russian(self):
        with translation.override("ru"), pytest.raises(DomainError) as exc:
            files.check_file("setup.exe", b"MZ")
        assert "нельзя" in str(exc.value.message).lower() or "exe" in str(exc.value.message)

    def test_names_lose_paths_and_control_characters(self):
        assert files.clean_name("C:\\Users\\x\\..\\secret\x07.pdf") == "secret.pdf"


class TestChatFile:
    def test_stored_encrypted_in_seq_order_and_sent_to_the_room(
        self, live, django_capture_on_commit_callbacks
    ):
        layer = get_channel_layer()
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(f"room.{live.pk}", channel)
        services.chat_message_create(consultation_id=live.pk, sender="client", text="Hello")
        with django_capture_on_commit_callbacks(execute=True):
            m = services.chat_file_create(
                consultation_id=live.pk, sender="consultant", name="Памятка.pdf", data=PDF
            )
        assert m.seq == 2 and m.attachment.name == "Памятка.pdf"
        raw = crypto.read_blob(m.attachment.storage_name)
        assert b"Leaflet" not in raw and not raw.startswith(b"%PDF")
        event = async_to_sync(asyncio.wait_for)(layer.receive(channel), 5)
        assert event["type"] == "room.event" and event["sender"] == ""
        payload = event["payload"]
        assert payload["type"] == "chat" and payload["seq"] == 2
        assert payload["file"] == {
            "name": "Памятка.pdf",
            "size": len(PDF),
            "type": "application/pdf",
        }
        history = selectors.chat_history(live.pk)
        assert [h["seq"] for h in history] == [1, 2] and "file" in history[1]

    def test_resent_with_the_same_id_is_stored_once(self, live):
        for _ in range(2):
            services.chat_file_create(
                consultation_id=live.pk, sender="client", name="a.png", data=PNG, client_msg_id="f1"
            )
        assert ChatMessage.objects.filter(consultation=live).count() == 1
        assert len(list(_storage_root().rglob("*.bin"))) == 1

    def test_refused_files_leave_nothing(self, live):
        with pytest.raises(DomainError):
            services.chat_file_create(
                consultation_id=live.pk, sender="client", name="x.exe", data=b"MZ"
            )
        services.consultation_end(consultation_id=live.pk, actor=live.booking.slot.consultant)
        with pytest.raises(DomainError):
            services.chat_file_create(
                consultation_id=live.pk, sender="client", name="a.png", data=PNG
            )
        assert not ChatMessage.objects.exists()
        assert not list(_storage_root().rglob("*.bin"))


class TestChatFileHttp:
    def _client_in_room(self, client, live):
        client.post(reverse("consultations:client_entry", args=[live.client_token]))

    def test_client_sends_consultant_downloads(self, client, live, consultant):
        self._client_in_room(client, live)
        url = reverse("consultations:client_file_upload", args=[live.client_token])
        response = client.post(url, {"file": SimpleUploadedFile("scan.png", PNG, "image/png")})
        assert (
            response.status_code == 200 and response.json()["message"]["file"]["name"] == "scan.png"
        )
        seq = response.json()["message"]["seq"]
        # The client downloads it by the token...
        mine = client.get(reverse("consultations:client_file", args=[live.client_token, seq]))
        assert mine.content == PNG
        # ...the consultant by login; nobody else.
        client.logout()
        doc_url = reverse("consultations:consultant_file", args=[live.pk, seq])
        assert client.get(doc_url).status_code == 302  # to the login page
        other = make_user(Role.CONSULTANT, service=live.booking.slot.service)
        client.force_login(other)
        assert client.get(doc_url).status_code == 403
        client.force_login(consultant)
        got = client.get(doc_url)
        assert got.status_code == 200 and got.content == PNG
        assert got["Content-Disposition"].startswith("attachment")
        assert (
            client.get(reverse("consultations:client_file", args=["wrong", seq])).status_code == 404
        )
        assert AuditEvent.objects.filter(event_type="chat.file_downloaded").count() == 2

    def test_oversized_and_disallowed_are_refused_with_the_reason(self, client, live, settings):
        settings.OPORA_CHAT_FILE_MAX_BYTES = 100
        self._client_in_room(client, live)
        url = reverse("consultations:client_file_upload", args=[live.client_token])
        big = client.post(url, {"file": SimpleUploadedFile("big.pdf", PDF)})
        assert big.status_code == 400 and big.json()["code"] == "file_too_large"
        assert "100" in big.json()["error"]
        exe = client.post(url, {"file": SimpleUploadedFile("run.exe", b"MZ")})
        assert exe.status_code == 400 and "exe" in exe.json()["error"]
        with translation.override("ru"):
            ru = client.post(
                url, {"file": SimpleUploadedFile("run.exe", b"MZ")}, HTTP_ACCEPT_LANGUAGE="ru"
            )
        assert ru.status_code == 400
        assert not ChatMessage.objects.exists()

    def test_protocol_lists_the_materials_sent(self, client, live, consultant):
        services.chat_file_create(
            consultation_id=live.pk, sender="consultant", name="Памятка.pdf", data=PDF
        )
        services.chat_file_create(
            consultation_id=live.pk, sender="client", name="scan.png", data=PNG
        )
        services.consultation_end(consultation_id=live.pk, actor=consultant)
        client.force_login(consultant)
        html = client.get(reverse("consultations:protocol", args=[live.pk])).content.decode()
        assert 'id="chat-files"' in html and "scan.png" in html
        # The materials field starts with what the consultant sent.
        assert "Памятка.pdf</textarea>" in html


class TestSpeed:
    def test_download_and_upload(self, client, live):
        url = reverse("consultations:speed_test", args=[live.client_token])
        got = client.get(url, {"bytes": "65536"})
        assert got.status_code == 200 and len(got.content) == 65536
        assert got["Cache-Control"].startswith("max-age=0")
        # Random, so no compression on the way makes the line look faster than it is.
        assert len(set(got.content)) > 200
        assert len(client.get(url, {"bytes": "999999999"}).content) == 2 * 1024 * 1024
        up = client.post(url, b"x" * 5000, content_type="application/octet-stream")
        assert up.json() == {"received": 5000}
        assert client.get(reverse("consultations:speed_test", args=["nope"])).status_code == 404

    def test_device_check_page_carries_the_measurement(self, client, live):
        html = client.get(reverse("consultations:device_check", args=[live.client_token]))
        assert 'id="speed-result"' in html.content.decode()


@pytest.fixture
def open_service(service):
    """The repeat request needs no registry check here (tested separately)."""
    Service.objects.filter(pk=service.pk).update(eligibility_rule=Service.Eligibility.NONE)
    service.refresh_from_db()
    return service


class TestNextConsultation:
    def _ended(self, service, consultant):
        c = make_live_consultation(service, consultant)
        # A valid synthetic IIN (the factory's is a placeholder the intake rules would refuse).
        ServiceRequest.objects.filter(pk=c.booking.request_id).update(
            iin=make_iin(dt.date(1990, 1, 2), "F", 77) or make_iin(dt.date(1990, 1, 2), "F", 78)
        )
        services.consultation_admit(consultation_id=c.pk, actor=consultant)
        return services.consultation_end(consultation_id=c.pk, actor=consultant)

    def test_books_the_consultants_own_slot_for_a_new_request(self, open_service, consultant):
        c = self._ended(open_service, consultant)
        day = future_working_day(open_service)
        slot = make_slot(open_service, consultant, day, dt.time(15))
        booking = services.next_consultation_book(actor=consultant, consultation=c, slot=slot)
        original = c.booking.request
        new = booking.request
        assert new.pk != original.pk and new.status == ServiceRequest.Status.BOOKED
        assert (new.full_name, new.iin, new.phone) == (
            original.full_name,
            original.iin,
            original.phone,
        )
        assert new.assigned_to == consultant and booking.slot == slot
        assert Consultation.objects.get(pk=c.pk).next_booking == booking
        assert Notification.objects.filter(kind="booking_created", recipient=new.phone).exists()
        with pytest.raises(DomainError) as exc:
            services.next_consultation_book(
                actor=consultant,
                consultation=c,
                slot=make_slot(open_service, consultant, day, dt.time(16)),
            )
        assert exc.value.code == "next_already_booked"

    def test_not_another_consultants_slot(self, open_service, consultant):
        c = self._ended(open_service, consultant)
        other = make_user(Role.CONSULTANT, service=open_service)
        slot = make_slot(open_service, other, future_working_day(open_service), dt.time(15))
        with pytest.raises(Exception):  # noqa: B017,PT011 - Django's or the domain's PermissionDenied
            services.next_consultation_book(actor=consultant, consultation=c, slot=slot)
        assert (
            ServiceRequest.objects.count() == 1 and not Booking.objects.filter(slot=slot).exists()
        )

    def test_a_taken_slot_leaves_no_request_behind(self, open_service, consultant):
        c = self._ended(open_service, consultant)
        slot = make_slot(open_service, consultant, future_working_day(open_service), dt.time(15))
        Booking.objects.create(slot=slot, request=make_request(open_service))
        slot.is_booked = True
        slot.save()
        before = ServiceRequest.objects.count()
        with pytest.raises(DomainError):
            services.next_consultation_book(actor=consultant, consultation=c, slot=slot)
        assert ServiceRequest.objects.count() == before

    def test_the_registry_check_runs_where_the_service_requires_it(self, service, consultant):
        c = self._ended(service, consultant)  # 1411: the synthetic IIN is not in the registry
        slot = make_slot(service, consultant, future_working_day(service), dt.time(15))
        with pytest.raises(DomainError) as exc:
            services.next_consultation_book(actor=consultant, consultation=c, slot=slot)
        assert exc.value.code == "ineligible"
        assert ServiceRequest.objects.count() == 1

    def test_from_the_protocol_page(self, client, open_service, consultant):
        c = self._ended(open_service, consultant)
        day = future_working_day(open_service)
        slot = make_slot(open_service, consultant, day, dt.time(15))
        later_day = future_working_day(open_service, nth=1)
        later = make_slot(open_service, consultant, later_day, dt.time(16))
        client.force_login(consultant)
        url = reverse("consultations:protocol", args=[c.pk])
        html = client.get(url).content.decode()
        assert f'id="next-slot-{slot.pk}"' in html  # the nearest first
        html = client.get(url, {"next_date": later_day.isoformat()}).content.decode()
        assert f'id="next-slot-{later.pk}"' in html and f'id="next-slot-{slot.pk}"' not in html
        response = client.post(
            reverse("consultations:next_booking", args=[c.pk]), {"slot": later.pk}
        )
        assert response.status_code == 302
        page = client.get(url).content.decode()
        assert 'id="next-booked"' in page
        assert later.starts_at.astimezone(open_service.tz).strftime("%d.%m.%Y %H:%M") in page
