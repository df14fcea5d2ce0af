"""The client's dialogue with the bot, the same on every channel (Telegram first).

Plain buttons: ask for a consultation, see my booking, cancel my booking, reminders on/off.
Asking: the question in the client's own words → (for a service that checks eligibility, as 1411
does: the IIN) → full name → phone (shared or skipped) → `request_create` with the channel. A
failed registry check gets the scripted, polite refusal of `opora.registry.scripts`.

Free text while the client has an open request is a chat message for the consultant, who
answers from Opora. Runs inside `inbound_process`'s transaction; replies are queued rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opora.core.actors import ClientActor
from opora.core.errors import DomainError, PermissionDenied
from opora.core.links import public_url
from opora.intake.models import ServiceRequest
from opora.intake.services import normalise_phone, request_create
from opora.messengers.adapters import Button, InboundMessage
from opora.messengers.models import Conversation, InboundUpdate
from opora.messengers.services import outbound_enqueue
from opora.registry.iin import IINError, validate_iin

if TYPE_CHECKING:
    from opora.scheduling.models import Booking

State = Conversation.State
OPEN_STATUSES = (ServiceRequest.Status.NEW, ServiceRequest.Status.BOOKED)


def _labels() -> dict[str, str]:
    """Button labels in the active language → command."""
    return {
        _("Ask for a consultation"): "ask",
        _("My booking"): "booking",
        _("Cancel my booking"): "cancel",
        _("Turn reminders on"): "reminders_on",
        _("Turn reminders off"): "reminders_off",
    }


COMMANDS = {
    "/start": "start",
    "/help": "start",
    "/menu": "start",
    "/ask": "ask",
    "/booking": "booking",
    "/cancel": "cancel",
    "/reminders": "reminders_toggle",
    "/events_off": "announcements_off",
    "/events_on": "announcements_on",
}


class Dialogue:
    def __init__(
        self, conversation: Conversation, message: InboundMessage, update: InboundUpdate
    ) -> None:
        self.conversation = conversation
        self.message = message
        self.update = update
        self.service = conversation.account.service
        self.replies = 0

    # --- output -------------------------------------------------------------------------------
    def menu(self) -> list[list[Button]]:
        reminders = (
            _("Turn reminders off")
            if self.conversation.reminders_enabled
            else _("Turn reminders on")
        )
        return [
            [Button(_("Ask for a consultation"))],
            [Button(_("My booking")), Button(_("Cancel my booking"))],
            [Button(reminders)],
        ]

    def say(self, text: str, buttons: list[list[Button]] | None = None) -> None:
        self.replies += 1
        outbound_enqueue(
            conversation=self.conversation,
            text=text,
            buttons=buttons,
            key=f"bot:{self.update.pk}:{self.replies}",
        )

    def save(self, *fields: str) -> None:
        self.conversation.save(update_fields=list(fields))

    def to_state(self, state: str, **draft: Any) -> None:
        self.conversation.state = state
        self.conversation.draft = {**self.conversation.draft, **draft} if state else {}
        self.save("state", "draft")

    # --- input --------------------------------------------------------------------------------
    def command(self, text: str) -> str | None:
        word = text.split()[0].split("@")[0].lower() if text.startswith("/") else ""
        if word:
            return COMMANDS.get(word, "start")
        return _labels().get(text)

    def handle(self) -> None:
        from opora.messengers import quality_chat, survey_chat

        text = self.message.text.strip()
        if self.message.callback_id:
            if text.startswith(f"{survey_chat.PREFIX}:"):
                survey_chat.handle_callback(self)
            else:
                quality_chat.handle_callback(self)
            return
        command = self.command(text)
        if command is not None:
            self.to_state(State.IDLE)
            getattr(self, f"do_{command}")()
            return
        state = self.conversation.state
        if state == State.ASK_QUESTION:
            self.got_question(text)
        elif state == State.ASK_IIN:
            self.got_iin(text)
        elif state == State.ASK_NAME:
            self.got_name(text)
        elif state == State.ASK_PHONE:
            self.got_phone(text)
        elif state == State.CONFIRM_CANCEL:
            self.got_cancel_answer(text)
        elif state == State.QUALITY_TEXT:
            quality_chat.handle_text(self, text)
        else:
            self.free_text()

    # --- commands -----------------------------------------------------------------------------
    def do_start(self) -> None:
        self.say(
            _(
                "Hello! This is %(service)s. Here you can ask for a consultation, see or cancel "
                "your booking and receive reminders. Choose an action below."
            )
            % {"service": self.service.name},
            self.menu(),
        )

    def open_request(self) -> ServiceRequest | None:
        request = self.conversation.request
        if request is not None:
            request.refresh_from_db(fields=["status"])
            if request.status in OPEN_STATUSES:
                return request
        return None

    def do_ask(self) -> None:
        request = self.open_request()
        if request is not None:
            self.say(
                _(
                    "Your request %(code)s is already registered. You can write your question "
                    "here; the consultant will read it."
                )
                % {"code": request.public_code},
                self.menu(),
            )
            return
        self.to_state(State.ASK_QUESTION)
        self.say(_("Please describe your question in your own words, in one message."))

    def _active_booking(self) -> Booking | None:
        from opora.scheduling.models import Booking

        request = self.conversation.request
        if request is None:
            return None
        return (
            Booking.objects.filter(request=request, status=Booking.Status.ACTIVE)
            .select_related("slot__service", "slot__consultant", "request")
            .first()
        )

    def _when(self, booking: Booking) -> dict[str, str]:
        starts = timezone.localtime(booking.slot.starts_at, self.service.tz)
        return {"date": starts.strftime("%d.%m.%Y"), "time": starts.strftime("%H:%M")}

    def do_booking(self) -> None:
        from opora.consultations.services import consultation_for_booking

        booking = self._active_booking()
        if booking is None:
            request = self.open_request()
            if request is not None:
                text = _(
                    "Your request %(code)s is registered; the time of the consultation is not "
                    "booked yet. We will write to you here as soon as it is."
                ) % {"code": request.public_code}
            else:
                text = _("You have no booked consultation.")
            self.say(text, self.menu())
            return
        consultation = consultation_for_booking(booking=booking)
        link = public_url(reverse("consultations:client_entry", args=[consultation.client_token]))
        lines = [
            _("Your consultation: %(date)s at %(time)s (local time).") % self._when(booking),
            _("Specialist: %(name)s.") % {"name": booking.slot.consultant.display_name},
            _("Form: %(form)s.") % {"form": consultation.get_mode_display()},
            _("Link to join: %(link)s") % {"link": link},
        ]
        if self.service.join_instructions:
            lines.append(self.service.join_instructions)
        self.say("\n".join(lines), self.menu())

    def do_cancel(self) -> None:
        booking = self._active_booking()
        if booking is None:
            self.say(_("You have no booked consultation to cancel."), self.menu())
            return
        self.to_state(State.CONFIRM_CANCEL, booking_id=booking.pk)
        self.say(
            _("Cancel your consultation on %(date)s at %(time)s?") % self._when(booking),
            [[Button(_("Yes, cancel it"))], [Button(_("No, keep it"))]],
        )

    def _set_reminders(self, on: bool) -> None:
        self.conversation.reminders_enabled = on
        self.save("reminders_enabled")
        if on:
            text = _(
                "Reminders are on: we will write the day before and an hour before your "
                "consultation."
            )
        else:
            text = _("Reminders are off. You still receive messages about changes of your booking.")
        self.say(text, self.menu())

    def do_reminders_on(self) -> None:
        self._set_reminders(True)

    def do_reminders_off(self) -> None:
        self._set_reminders(False)

    def do_reminders_toggle(self) -> None:
        self._set_reminders(not self.conversation.reminders_enabled)

    def _set_announcements(self, on: bool) -> None:
        self.conversation.announcements_enabled = on
        self.save("announcements_enabled")
        if on:
            text = _("We will tell you about the service's webinars and other events.")
        else:
            text = _(
                "You will no longer receive announcements of events. Send /events_on to "
                "receive them again."
            )
        self.say(text, self.menu())

    def do_announcements_on(self) -> None:
        self._set_announcements(True)

    def do_announcements_off(self) -> None:
        self._set_announcements(False)

    # --- asking for a consultation -------------------------------------------------------------
    def got_question(self, text: str) -> None:
        if not text:
            self.say(_("Please write your question as text."))
            return
        self.conversation.draft = {"reason": text[:4000]}
        if self.service.requires_eligibility:
            self.ask_iin()
        else:
            self.ask_name()

    def ask_iin(self) -> None:
        self.to_state(State.ASK_IIN)
        self.say(
            _(
                "This service checks the registries of benefit recipients (ЦБД/ЦБДИ). Please send "
                "your IIN or your child's IIN (12 digits)."
            )
        )

    def got_iin(self, text: str) -> None:
        try:
            iin = validate_iin(text)
        except IINError as err:
            self.say(str(err.message))
            return
        self.conversation.draft["iin"] = iin
        self.ask_name()

    def ask_name(self) -> None:
        self.to_state(State.ASK_NAME)
        buttons = None
        if self.service.allows_anonymous and not self.service.requires_eligibility:
            buttons = [[Button(_("Stay anonymous"))]]
        self.say(
            _(
                "Please send your last name, first name and patronymic (if any), as in your "
                "identity document."
            ),
            buttons,
        )

    def got_name(self, text: str) -> None:
        anonymous = (
            text == _("Stay anonymous")
            and self.service.allows_anonymous
            and not self.service.requires_eligibility
        )
        if not anonymous and len(text.split()) < 2:
            self.say(_("Please send at least your last name and first name."))
            return
        self.conversation.draft.update({"full_name": "" if anonymous else text, "anon": anonymous})
        self.to_state(State.ASK_PHONE)
        self.say(
            _(
                "Please share your phone number, so that the specialist can call you if the "
                "connection fails, or press “Skip”."
            ),
            [[Button(_("Share my phone number"), request_contact=True)], [Button(_("Skip"))]],
        )

    def got_phone(self, text: str) -> None:
        phone = self.message.phone
        if not phone and text and text != _("Skip"):
            phone = text
        try:
            phone = normalise_phone(phone)
        except DomainError as err:
            self.say(str(err.message))
            return
        self.create_request(phone)

    def create_request(self, phone: str) -> None:
        draft = self.conversation.draft
        try:
            request = request_create(
                actor=None,
                service=self.service,
                full_name=draft.get("full_name", ""),
                iin=draft.get("iin", ""),
                phone=phone,
                reason=draft.get("reason", ""),
                channel=self.conversation.account.channel,
                is_anonymous=bool(draft.get("anon")),
            )
        except DomainError as err:
            if err.code in ("invalid_iin", "iin_required"):
                self.say(str(err.message))
                self.ask_iin()
            elif err.code in ("full_name_required", "full_name_incomplete", "full_name_too_long"):
                self.say(str(err.message))
                self.ask_name()
            else:
                # "ineligible" carries the scripted, polite refusal (opora.registry.scripts).
                self.to_state(State.IDLE)
                self.say(str(err.message), self.menu())
            return
        self.conversation.request = request
        if request.client_id and not (
            ServiceRequest.objects.filter(client_id=request.client_id)
            .exclude(pk=request.pk)
            .exists()
        ):
            # A client new with this request: the chat is theirs. A known client's chat is not
            # linked from a message (a name and an IIN are no proof); notices about this request
            # still come here, through the request.
            self.conversation.client_id = request.client_id
        self.conversation.state = State.IDLE
        self.conversation.draft = {}
        self.save("request", "client", "state", "draft")
        self.say(
            _(
                "Thank you! Your request %(code)s is registered. An operator will choose the "
                "time of the consultation, and we will write to you here."
            )
            % {"code": request.public_code},
            self.menu(),
        )

    # --- cancelling ---------------------------------------------------------------------------
    def got_cancel_answer(self, text: str) -> None:
        from opora.notifications.models import Notification
        from opora.scheduling.services import booking_cancel

        booking = self._active_booking()
        asked_about = self.conversation.draft.get("booking_id")
        self.to_state(State.IDLE)
        # The booking asked about must still be the active one (not moved meanwhile).
        if text != _("Yes, cancel it") or booking is None or booking.pk != asked_about:
            self.say(_("Your booking is kept."), self.menu())
            return
        when = self._when(booking)
        try:
            booking_cancel(
                actor=ClientActor(
                    request_id=booking.request_id, channel=self.conversation.account.channel
                ),
                booking=booking,
                reason="cancelled by the client in the messenger",
            )
        except PermissionDenied:
            how = self.service.change_instructions or (
                _("call %(phone)s") % {"phone": self.service.public_phone}
                if self.service.public_phone
                else ""
            )
            self.say(
                _("The booking cannot be cancelled here.") + (f" {how}" if how else ""),
                self.menu(),
            )
            return
        except DomainError as err:
            self.say(str(err.message), self.menu())
            return
        # The cancellation notice may already be queued to this chat (as a copy of the SMS or
        # e-mail notice): then it says everything, and the bot does not repeat it.
        copied = Notification.objects.filter(
            kind="booking_cancelled",
            subject_type="scheduling.booking",
            subject_id=str(booking.pk),
            channel=self.conversation.account.channel,
            recipient=str(self.conversation.pk),
        ).exists()
        if not copied:
            self.say(
                _("Your consultation on %(date)s at %(time)s is cancelled.") % when, self.menu()
            )

    # --- chat with the consultant ---------------------------------------------------------------
    def free_text(self) -> None:
        if self.open_request() is not None:
            if self.conversation.awaiting_reply_since is None:
                self.conversation.awaiting_reply_since = timezone.now()
                self.save("awaiting_reply_since")
                self.say(_("Thank you, your message is passed to the consultant."))
            return
        self.say(_("Please choose an action with the buttons below."), self.menu())


def bot_handle(
    *, conversation: Conversation, message: InboundMessage, update: InboundUpdate
) -> None:
    """Answer one client message (inside the caller's transaction)."""
    language = conversation.language or settings.LANGUAGE_CODE
    with translation.override(language):
        Dialogue(conversation, message, update).handle()
