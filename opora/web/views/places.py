"""The service's rooms and addresses, and the form (and room) each slot is offered in (issue 12,
regulation 004's in-person help): the head or the coordinator keeps them here instead of in the
administration pages. The rules are scheduling's services; these pages parse and show."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest
from opora.core.errors import DomainError
from opora.core.inputs import InvalidInput
from opora.core.models import Service
from opora.scheduling import selectors as scheduling_selectors
from opora.scheduling import services as scheduling
from opora.scheduling.calendar import to_local
from opora.scheduling.models import ConsultationForm, Place, Slot
from opora.web.decorators import forbidden, role_required
from opora.web.forms import PlaceForm, SlotFormForm, parse_date
from opora.web.views.common import attach_error, go, lookup_error, page, today

PLACE_FIELDS = {"name": "name", "duplicate": "name", "kind": "kind", "address": "address"}
SLOT_FIELDS = {"form": "form", "place": "place", "wrong_place": "place"}
# Forms a scheduled slot can be offered in; written forms are taken up from a thread, never booked.
SLOT_FORMS = [
    (f.value, f.label)
    for f in ConsultationForm
    if f not in (ConsultationForm.EMAIL, ConsultationForm.MESSENGER)
]


def _place_service(*, pk: int) -> Service | None:
    found = Place.objects.select_related("service").filter(pk=pk).first()
    return found.service if found is not None else None


def _slot_service(*, pk: int) -> Service | None:
    found = Slot.objects.select_related("service").filter(pk=pk).first()
    return found.service if found is not None else None


def _of_service(request: StaffRequest, record: Place | Slot | None) -> HttpResponse | None:
    """None when `record` is of the service the user works in now (the page switched to it when
    they work for its service); a 404 when there is none, a 403 when it is another service's."""
    if record is None:
        raise Http404(_("Not found."))
    if record.service_id != request.service.pk:
        return forbidden(request, _("You do not work for this service."))
    return None


def _place(request: StaffRequest, pk: int) -> Place | None:
    return Place.objects.filter(pk=pk).first()


@role_required(Action.PLACE_MANAGE)
def place_list(request: StaffRequest) -> HttpResponse:
    places = scheduling_selectors.places_of_service(service=request.service)
    return page(request, "web/places/list.html", {"nav": "places", "places": places})


def _edit(request: StaffRequest, place: Place | None) -> HttpResponse:
    initial = (
        None
        if place is None
        else {
            "name": place.name,
            "address": place.address,
            "kind": place.kind,
            "is_active": place.is_active,
        }
    )
    form = PlaceForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if place is None:
                scheduling.place_create(
                    actor=request.user,
                    service=request.service,
                    name=data["name"],
                    address=data["address"],
                    kind=data["kind"],
                )
            else:
                scheduling.place_update(
                    actor=request.user,
                    place=place,
                    name=data["name"],
                    address=data["address"],
                    kind=data["kind"],
                    is_active=data["is_active"],
                )
        except DomainError as err:
            if err.http_status == 403:
                return lookup_error(request, err)
            attach_error(form, err, PLACE_FIELDS)
        else:
            messages.success(request, _("The place is saved."))
            return go(request, reverse("place_list"))
    ctx = {"nav": "places", "form": form, "place": place}
    return page(request, "web/places/edit.html", ctx, status=400 if form.errors else 200)


@role_required(Action.PLACE_MANAGE)
@require_http_methods(["GET", "POST"])
def place_new(request: StaffRequest) -> HttpResponse:
    return _edit(request, None)


@role_required(Action.PLACE_MANAGE, service_from=_place_service)
@require_http_methods(["GET", "POST"])
def place_edit(request: StaffRequest, pk: int) -> HttpResponse:
    place = _place(request, pk)
    refusal = _of_service(request, place)
    if refusal is not None:
        return refusal
    return _edit(request, place)


@role_required(Action.PLACE_MANAGE, service_from=_place_service)
@require_POST
def place_deactivate(request: StaffRequest, pk: int) -> HttpResponse:
    """Take the place out of use; with `delete`, delete it if nothing names it."""
    place = _place(request, pk)
    refusal = _of_service(request, place)
    if refusal is not None:
        return refusal
    assert place is not None  # noqa: S101
    try:
        if request.POST.get("delete"):
            scheduling.place_delete(actor=request.user, place=place)
            messages.success(request, _("The place is deleted."))
        else:
            scheduling.place_deactivate(actor=request.user, place=place)
            messages.success(request, _("The place is out of use now."))
    except DomainError as err:
        if err.http_status == 403:
            return lookup_error(request, err)
        messages.error(request, str(err.message))
    return go(request, reverse("place_list"))


@role_required(Action.PLACE_MANAGE)
def slot_list(request: StaffRequest) -> HttpResponse:
    """The scheduled slots of one day with their form and room."""
    try:
        date = parse_date(request.GET.get("date")) or today(request.service)
    except InvalidInput as err:
        date = today(request.service)
        messages.error(request, str(err.message))
    slots = scheduling_selectors.slots_of_day(service=request.service, date=date)
    ctx = {
        "nav": "places",
        "date": date,
        "prev_date": date - dt.timedelta(days=1),
        "next_date": date + dt.timedelta(days=1),
        "slots": slots,
    }
    return page(request, "web/places/slots.html", ctx)


@role_required(Action.PLACE_MANAGE, service_from=_slot_service)
@require_http_methods(["GET", "POST"])
def slot_edit(request: StaffRequest, pk: int) -> HttpResponse:
    """Choose the form of a free slot and, in person, its room."""
    slot = (
        Slot.objects.select_related("consultant", "place")
        .filter(pk=pk, schedule__isnull=False)
        .first()
    )
    refusal = _of_service(request, slot)
    if refusal is not None:
        return refusal
    assert slot is not None  # noqa: S101
    places = scheduling_selectors.places_of_service(service=request.service, include_inactive=False)
    form = SlotFormForm(
        request.POST or None,
        initial={"form": slot.form, "place": slot.place_id},
        places=places,
        forms_=SLOT_FORMS,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        place = Place.objects.filter(pk=data["place"], service=request.service).first()
        try:
            if data["place"] is not None and place is None:
                raise DomainError(_("Choose a room of this service."), code="place")
            scheduling.slot_set_form(actor=request.user, slot=slot, form=data["form"], place=place)
        except DomainError as err:
            if err.http_status == 403:
                return lookup_error(request, err)
            attach_error(form, err, SLOT_FIELDS)
        else:
            messages.success(request, _("The form of the slot is saved."))
            day = to_local(request.service, slot.starts_at).date()
            return go(request, reverse("place_slots") + f"?date={day:%Y-%m-%d}")
    ctx = {"nav": "places", "form": form, "slot": slot}
    return page(request, "web/places/slot_edit.html", ctx, status=400 if form.errors else 200)
