"""Personal data at rest (issue 15): the list of sensitive fields, key rotation, and a test that
reads the raw database after a flow and finds no personal value in clear. Synthetic data only."""

from __future__ import annotations

import base64
import datetime as dt
import io
import os

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from opora.accounts.models import Role
from opora.consultations import services as consultation_services
from opora.consultations.models import ChatMessage, Protocol, Topic
from opora.consultations.tests.factories import make_live_consultation
from opora.core.fields import EncryptedMixin
from opora.core.sensitive import SEALED_BY_MODEL, SENSITIVE
from opora.demo.factories import make_registry_record, make_service_1411, make_user
from opora.intake.models import Client, ServiceRequest
from opora.intake.selectors import client_search
from opora.mail.tests.conftest import imap_server  # noqa: F401 - the real IMAP server fixture
from opora.registry.adapters import get_registry_adapter
from opora.registry.iin import make_iin
from opora.registry.models import RegistryRecord
from opora.registry.services import registry_import

pytestmark = pytest.mark.django_db(transaction=False)


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _iin(birth: dt.date, sex: str, serial: int) -> str:
    value = make_iin(birth, sex, serial)
    assert value is not None  # these serials give a valid check digit
    return value


PARENT_IIN = _iin(dt.date(1984, 5, 17), "F", 4321)
CHILD_IIN = _iin(dt.date(2016, 2, 9), "M", 8765)
PARENT_LAST, PARENT_FIRST, PARENT_PATR = "Шифровальщикова", "Зарина", "Ермековна"
CHILD_NAME = "Шифровальщиков Тимур"
PHONE = "+77015550199"
EMAIL = "zarina.secret-parent@example.org"
REASON = "Сын перестал разговаривать после переезда"
CHAT = "Мы очень боимся говорить об этом с врачом"
PROTOCOL_TEXT = "Рекомендована консультация логопеда и дневник сна"
LETTER = "Пишу вам про сына, ему очень тяжело в школе"
MESSENGER = "Здравствуйте, у дочери снова приступ тревоги"


# --- the one list ----------------------------------------------------------------------------------


def test_every_listed_field_is_encrypted_and_every_encrypted_field_is_listed():
    encrypted = {
        (m._meta.label_lower, f.name)
        for m in apps.get_models()
        for f in m._meta.concrete_fields
        if isinstance(f, EncryptedMixin)
    }
    listed = {
        (label, name)
        for label, fields in SENSITIVE.items()
        if label not in SEALED_BY_MODEL
        for name in fields
    }
    assert listed == encrypted
    for label in SEALED_BY_MODEL:
        model = apps.get_model(label)
        assert set(SENSITIVE[label]) <= {
            n for n in dir(model) if isinstance(getattr(model, n), property)
        }


# --- key rotation ------------------------------------------------------------------------------------


def _stored(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id")  # noqa: S608 - constants
        return [row[0] for row in cursor.fetchall()]


def _people(service):
    client = Client.objects.create(
        last_name=PARENT_LAST,
        first_name=PARENT_FIRST,
        patronymic=PARENT_PATR,
        iin=PARENT_IIN,
        phone=PHONE,
        email=EMAIL,
    )
    ServiceRequest.objects.create(
        service=service,
        client=client,
        full_name=f"{PARENT_LAST} {PARENT_FIRST}",
        iin=PARENT_IIN,
        phone=PHONE,
        email=EMAIL,
        reason=REASON,
    )
    make_registry_record(
        source="cbd",
        iin=PARENT_IIN,
        child_iin=CHILD_IIN,
        last_name=PARENT_LAST,
        first_name=PARENT_FIRST,
        status="active",
    )
    return client


def _reads_work(operator, client):
    assert client_search(actor=operator, query=PARENT_IIN) == [client]
    assert client_search(actor=operator, query="8 701 555 01 99") == [client]
    assert client_search(actor=operator, query="шифровальщ зар") == [client]
    assert ServiceRequest.objects.get(email=EMAIL.upper()).reason == REASON
    (entry,) = get_registry_adapter().lookup(CHILD_IIN)
    assert (entry.iin, entry.last_name) == (PARENT_IIN, PARENT_LAST)


def test_rotate_keys_round_trip_with_reads_working_throughout(settings):
    old_field, new_field, old_index, new_index = _key(), _key(), _key(), _key()
    settings.OPORA_FIELD_KEY, settings.OPORA_INDEX_KEY = old_field, old_index
    service = make_service_1411()
    operator = make_user(Role.OPERATOR, service=service)
    client = _people(service)
    before = _stored("intake_client", "iin")[0]
    _reads_work(operator, client)

    # A new field key: the old one still decrypts; the rotation re-encrypts, resumably.
    settings.OPORA_FIELD_KEY, settings.OPORA_FIELD_OLD_KEYS = new_field, [old_field]
    _reads_work(operator, client)
    out = io.StringIO()
    call_command("rotate_keys", "--check", stdout=out)
    assert "0 rows left" not in out.getvalue().splitlines()[-1]
    call_command("rotate_keys", "--batch-size", "1", stdout=io.StringIO())
    _reads_work(operator, client)
    out = io.StringIO()
    call_command("rotate_keys", "--check", stdout=out)
    assert out.getvalue().splitlines()[-1] == "0 rows left"
    after = _stored("intake_client", "iin")[0]
    assert after != before and after.split(":")[1] != before.split(":")[1]
    # A second run finds nothing to do (the key id in each value says it is done).
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert out.getvalue().splitlines()[-1] == "0 rows re-encrypted in all"
    settings.OPORA_FIELD_OLD_KEYS = []
    _reads_work(operator, client)

    # A new index key: lookups ask under both keys until --reindex has recomputed them all.
    settings.OPORA_INDEX_KEY, settings.OPORA_INDEX_OLD_KEYS = new_index, [old_index]
    _reads_work(operator, client)
    call_command("rotate_keys", "--reindex", stdout=io.StringIO())
    settings.OPORA_INDEX_OLD_KEYS = []
    _reads_work(operator, client)


def test_a_missing_key_is_a_clear_error_never_garbage(settings):
    settings.OPORA_FIELD_KEY = _key()
    service = make_service_1411()
    _people(service)
    settings.OPORA_FIELD_KEY = _key()  # the old key lost
    with pytest.raises(ImproperlyConfigured, match="OPORA_FIELD_OLD_KEYS"):
        Client.objects.get()
    with pytest.raises(ImproperlyConfigured, match="OPORA_FIELD_OLD_KEYS"):
        RegistryRecord.objects.get().iin  # noqa: B018


# --- the raw database ---------------------------------------------------------------------------------


def _all_text() -> list[tuple[str, str, str]]:
    """(table, column, value) of every text value in every table, read with raw SQL."""
    out = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND data_type IN "
                "('text', 'character varying', 'character', 'jsonb', 'json')"
            )
            columns = cursor.fetchall()
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            columns = []
            for (table,) in cursor.fetchall():
                cursor.execute(f'PRAGMA table_info("{table}")')
                columns += [(table, c[1]) for c in cursor.fetchall()]
        for table, column in columns:
            sql = f'SELECT CAST("{column}" AS TEXT) FROM "{table}" WHERE "{column}" IS NOT NULL'  # noqa: S608 - names from the catalogue
            cursor.execute(sql)
            out += [(table, column, v) for (v,) in cursor.fetchall() if v]
    return out


def test_the_raw_database_holds_no_personal_data_in_clear(tmp_path, settings, request):
    settings.OPORA_FIELD_KEY = _key()
    # Files (raw letters, attachments, recordings, chat files) go here, scanned at the end.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.OPORA_RECORDING_ROOT = str(tmp_path / "private")
    fixtures = request  # pytest's: `request` is the service request further down
    service = make_service_1411()
    consultant = make_user(Role.CONSULTANT, service=service)

    # Registry import.
    csv = tmp_path / "cbd.csv"
    csv.write_text(
        "recipient_iin,last_name,first_name,patronymic,child_iin,relation,status\n"
        f"{PARENT_IIN},{PARENT_LAST},{PARENT_FIRST},{PARENT_PATR},{CHILD_IIN},мать,active\n",
        encoding="utf-8",
    )
    assert registry_import(source="cbd", path=csv).status == "done"
    # The client and (below) the booked request, as the portal or the operator leaves them.
    client = Client.objects.create(
        last_name=PARENT_LAST,
        first_name=PARENT_FIRST,
        patronymic=PARENT_PATR,
        iin=PARENT_IIN,
        phone=PHONE,
        email=EMAIL,
    )
    # A booking and its consultation, with chat and a protocol.
    consultation = make_live_consultation(service, consultant)
    request = consultation.booking.request
    request.client = client
    request.full_name = f"{PARENT_LAST} {PARENT_FIRST} {PARENT_PATR}"
    request.iin, request.phone, request.email, request.reason = PARENT_IIN, PHONE, EMAIL, REASON
    request.save()
    consultation_services.consultation_admit(consultation_id=consultation.pk, actor=consultant)
    ChatMessage.objects.create(consultation=consultation, seq=1, sender="client", text=CHAT)
    consultation_services.consultation_end(consultation_id=consultation.pk, actor=consultant)
    consultation_services.protocol_save(
        actor=consultant,
        consultation=consultation,
        child_name=CHILD_NAME,
        child_age=9,
        reason=REASON,
        topic=Topic.FAMILY,
        solution=PROTOCOL_TEXT,
        materials="",
        kind=Protocol.Kind.PRIMARY,
        next_consultation="",
        note=PROTOCOL_TEXT,
    )
    # --- e-mail and messenger (block: demo/tests/_raw_flow.py) -----------------------------------
    # A letter fetched over IMAP and messages posted to the Telegram webhook with its secret.
    from opora.demo.tests._raw_flow import letter_and_messenger, stored_files_with

    letter_and_messenger(
        fixtures=fixtures,
        service=service,
        request=request,
        sender=EMAIL,
        last_name=PARENT_LAST,
        first_name=PARENT_FIRST,
        letter=LETTER,
        message=MESSENGER,
    )
    # --- end of the e-mail and messenger block ----------------------------------------------------

    assert Protocol.objects.get().solution == PROTOCOL_TEXT
    secrets = {
        "IIN": PARENT_IIN,
        "child IIN": CHILD_IIN,
        "last name": PARENT_LAST,
        "first name": PARENT_FIRST,
        "patronymic": PARENT_PATR,
        "child's name": CHILD_NAME.split()[1],
        "phone": PHONE[-10:],
        "e-mail": EMAIL,
        "reason": REASON,
        "chat": CHAT,
        "protocol": PROTOCOL_TEXT,
        "letter": LETTER,
        "messenger": MESSENGER,
    }
    dump = _all_text()
    # The dump does see clear text where it is stored in clear (the service's own name).
    assert any(service.name in value for _t, _c, value in dump)
    found = [
        (what, table, column)
        for table, column, value in dump
        for what, secret in secrets.items()
        if secret.casefold() in value.casefold()
    ]
    assert found == []
    # --- files on storage (block: demo/tests/_raw_flow.py) ----------------------------------------
    # The raw letter (with its attachment) is on storage too: sealed, so no value reads in clear.
    roots = [tmp_path / "media", tmp_path / "private"]
    assert stored_files_with(roots, secrets) == []
    # --- end of the files block ---------------------------------------------------------------------


def test_rows_stored_in_clear_before_are_encrypted_and_indexed_by_the_migration_helper():
    """What the data migrations run (core.fields.encrypt_rows): clear rows become sealed and
    findable, in batches; a second run finds nothing left to do."""
    from opora.core.fields import encrypt_rows

    service = make_service_1411()
    operator = make_user(Role.OPERATOR, service=service)
    client = Client.objects.create(last_name="Временная", first_name="Запись")
    with connection.cursor() as cursor:  # as the table held it before encryption
        cursor.execute(
            "UPDATE intake_client SET last_name = %s, first_name = %s, iin = %s, phone = %s, "
            "iin_bidx = '', phone_bidx = '', name_tokens = '' WHERE id = %s",
            [PARENT_LAST, PARENT_FIRST, PARENT_IIN, PHONE, client.pk],
        )
    ServiceRequest.objects.create(service=service, client=client, full_name="Временная Запись")
    assert client_search(actor=operator, query=PARENT_IIN) == []
    fields = ["last_name", "first_name", "patronymic", "iin", "phone", "phone_extra", "email"]
    assert encrypt_rows(Client, fields, batch_size=1) == 1
    assert encrypt_rows(Client, fields) == 0
    (stored,) = _stored("intake_client", "last_name")
    assert stored.startswith("enc1:") and PARENT_LAST not in stored
    assert client_search(actor=operator, query=PARENT_IIN) == [client]
    assert client_search(actor=operator, query="шифровальщикова") == [client]
    assert Client.objects.get(pk=client.pk).phone == PHONE


# --- complaints, events, staff contacts, failure reports (the enca branch) ------------------------
# Kept apart from the flow above (another branch extends the messenger part of it): each value
# below is a recognisable synthetic marker that must not appear in clear in any table.

COMPLAINANT = "Жалобщикова Маркерина"
COMPLAINT_PHONE = "+77015550277"
COMPLAINT_EMAIL = "complainant.marker@example.org"
COMPLAINT_ADDRESS = "ул. Маркерная, дом 77"
COMPLAINT_TEXT = "Консультант Маркеров не выслушал меня до конца"
COMPLAINT_ANSWER = "Проверка по жалобе Маркериной проведена"
PARTICIPANT = "Вебинарова Маркелла"
SECOND_PARTICIPANT = "Вебинаров Маркел"
PARTICIPANT_PHONE = "+77015550388"
PARTICIPANT_EMAIL = "participant.marker@example.org"
PARTICIPANT_NOTE = "пришла с маркерным вопросом"
RESPONSIBLE = "Ответственнова Маркиза"
RESPONSIBLE_PHONE = "+77015550499"
RESPONSIBLE_EMAIL = "responsible.marker@example.org"
FAILURE = "У клиентки Маркеровой пропал звук на середине"
REFERRAL_TEXT = "Направлена к логопеду Маркеровичу"
CHILD_BIRTH = dt.date(2016, 2, 9)


def _complaint_event_staff_and_failure(service):
    from django.utils import timezone

    from opora.accounts.models import ResponsibleSide
    from opora.complaints import services as complaint_services
    from opora.complaints.models import Complaint
    from opora.consultations.services.failures import technical_failure_report
    from opora.core.actors import SystemActor
    from opora.events import services as event_services
    from opora.events.tests.factories import make_event
    from opora.intake.models import Child
    from opora.scheduling.responsible import responsible_person_change

    consultant = make_user(Role.CONSULTANT, service=service)
    coordinator = make_user(
        Role.COORDINATOR, service=service, organisation=service.intake_organisation
    )
    head = make_user(Role.HEAD, service=service)
    # A complaint from the portal, answered.
    complaint, _code = complaint_services.complaint_register(
        actor=SystemActor(name="complaints.portal"),
        service=service,
        channel=Complaint.Channel.PORTAL,
        text=COMPLAINT_TEXT,
        complainant_name=COMPLAINANT,
        phone=COMPLAINT_PHONE,
        email=COMPLAINT_EMAIL,
        postal_address=COMPLAINT_ADDRESS,
        consent=True,
    )
    complaint = complaint_services.complaint_assign(actor=head, complaint=complaint, reviewer=head)
    complaint_services.complaint_answer(actor=head, complaint=complaint, answer=COMPLAINT_ANSWER)
    # An event registration of two parents, with the lead's note.
    event = make_event(service, consultant)
    registration = event_services.registration_create(
        actor=None,
        event=event,
        full_name=PARTICIPANT,
        second_full_name=SECOND_PARTICIPANT,
        phone=PARTICIPANT_PHONE,
        email=PARTICIPANT_EMAIL,
    ).registration
    event_services.registration_note_set(
        actor=consultant, registration=registration, note=PARTICIPANT_NOTE
    )
    # The responsible person of the intake side.
    responsible_person_change(
        actor=coordinator,
        service=service,
        side=ResponsibleSide.INTAKE,
        full_name=RESPONSIBLE,
        phone=RESPONSIBLE_PHONE,
        email=RESPONSIBLE_EMAIL,
        valid_from=timezone.localdate(),
    )
    # A technical failure reported on a consultation whose request was referred elsewhere.
    consultation = make_live_consultation(service, consultant)
    request = consultation.booking.request
    request.referral_text = REFERRAL_TEXT
    request.client = request.client or Client.objects.create(last_name="Ф", first_name="И")
    request.child = Child.objects.create(client=request.client, birth_date=CHILD_BIRTH)
    request.save()
    technical_failure_report(
        actor=consultant, consultation=consultation, cause="other", details=FAILURE
    )
    return complaint, registration


def test_complaints_events_staff_contacts_and_failures_are_not_in_clear(settings):
    settings.OPORA_FIELD_KEY = _key()
    service = make_service_1411()
    complaint, registration = _complaint_event_staff_and_failure(service)

    # Every feature still reads them back, and finds the registration by its link and contact.
    from opora.accounts.models import ResponsiblePerson
    from opora.consultations.models import TechnicalFailure
    from opora.events import services as event_services
    from opora.intake.models import Child

    complaint.refresh_from_db()
    assert (complaint.complainant_name, complaint.text) == (COMPLAINANT, COMPLAINT_TEXT)
    assert complaint.answer == COMPLAINT_ANSWER and complaint.postal_address == COMPLAINT_ADDRESS
    assert event_services.registration_for_link(token=registration.token) == registration
    again = event_services.registration_create(
        actor=None, event=registration.event, full_name=PARTICIPANT, phone="8 701 555 03 88"
    )
    assert again.created is False and again.registration == registration
    assert ResponsiblePerson.objects.get().email == RESPONSIBLE_EMAIL
    assert TechnicalFailure.objects.get().details == FAILURE

    secrets = {
        "complainant": COMPLAINANT,
        "complaint phone": COMPLAINT_PHONE[-10:],
        "complaint e-mail": COMPLAINT_EMAIL,
        "complaint address": COMPLAINT_ADDRESS,
        "complaint text": COMPLAINT_TEXT,
        "complaint answer": COMPLAINT_ANSWER,
        "participant": PARTICIPANT,
        "second participant": SECOND_PARTICIPANT,
        "participant phone": PARTICIPANT_PHONE[-10:],
        "participant e-mail": PARTICIPANT_EMAIL,
        "participant note": PARTICIPANT_NOTE,
        "registration link token": registration.token,
        "responsible person": RESPONSIBLE,
        "responsible phone": RESPONSIBLE_PHONE[-10:],
        "responsible e-mail": RESPONSIBLE_EMAIL,
        "failure details": FAILURE,
        "referral text": REFERRAL_TEXT,
    }
    dump = _all_text()
    assert any(registration.event.title_ru in value for _t, _c, value in dump)  # the scan works
    found = [
        (what, table, column)
        for table, column, value in dump
        for what, secret in secrets.items()
        if secret.casefold() in value.casefold()
    ]
    assert found == []
    # A child's birth date is stored encrypted too (a date column would show it as it is).
    with connection.cursor() as cursor:
        cursor.execute("SELECT CAST(birth_date AS TEXT) FROM intake_child")
        stored = [row[0] for row in cursor.fetchall()]
    assert stored and all(v.startswith("enc1:") for v in stored)
    assert Child.objects.get().birth_date == CHILD_BIRTH
    assert not any(CHILD_BIRTH.isoformat() in v for _t, _c, v in dump)


# --- scheduling (the encc branch) --------------------------------------------------------------------
# Kept apart like the block above: a schedule returned with a comment, a visiting booking cancelled
# with a reason, through the services (which audit and notify), and none of it in clear.

SCHEDULE_COMMENT = "Добавьте пятницы, Маркшейдерова просила"
VISIT_ADDRESS = "с. Маркшейдерское, ул. Тайная, 11"
CANCEL_REASON = "Маркшейдерова уезжает в больницу"


def test_schedule_comments_and_booking_texts_are_not_in_clear(settings):
    from opora.scheduling import services as scheduling_services
    from opora.scheduling.models import Booking, Schedule
    from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

    settings.OPORA_FIELD_KEY = _key()
    service = make_service_1411()
    consultant = make_user(Role.CONSULTANT, service=service)
    operator = make_user(Role.OPERATOR, service=service)
    head = make_user(Role.HEAD, service=service)
    day = future_working_day(service)
    slot = make_slot(service, consultant, day, dt.time(15))
    schedule = Schedule.objects.get(slots=slot)
    Schedule.objects.filter(pk=schedule.pk).update(
        status=Schedule.Status.SUBMITTED, created_by=head
    )
    schedule.refresh_from_db()
    scheduling_services.schedule_return(actor=head, schedule=schedule, comment=SCHEDULE_COMMENT)
    booking = scheduling_services.booking_create(
        actor=operator, request=make_request(service), slot=slot
    )
    Booking.objects.filter(pk=booking.pk).update(visit_address=VISIT_ADDRESS)
    booking.refresh_from_db()
    scheduling_services.booking_cancel(actor=operator, booking=booking, reason=CANCEL_REASON)

    booking.refresh_from_db()
    assert (booking.visit_address, booking.cancel_reason) == (VISIT_ADDRESS, CANCEL_REASON)
    assert Schedule.objects.get(pk=schedule.pk).comment == SCHEDULE_COMMENT
    secrets = {
        "schedule comment": SCHEDULE_COMMENT,
        "visit address": VISIT_ADDRESS,
        "cancel reason": CANCEL_REASON,
    }
    dump = _all_text()
    assert any(service.name in value for _t, _c, value in dump)  # the scan works
    found = [
        (what, table, column)
        for table, column, value in dump
        for what, secret in secrets.items()
        if secret.casefold() in value.casefold()
    ]
    assert found == []
