"""Pages of questionnaires: the client's (a private link, phone first) and the staff's (the
coordinator's builder with preview, a request's results, one result)."""

from __future__ import annotations

import json
import secrets
from typing import Any, TypedDict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest, role_required
from opora.consultations.crisis import emergency_numbers
from opora.core.errors import DomainError, NotFound, PermissionDenied
from opora.core.models import Service
from opora.surveys import builder, scoring, selectors, services
from opora.surveys.instruments import SHIPPED
from opora.surveys.models import Assignment, Instrument, InstrumentVersion, Response

SESSION_KEY = "surveys:open:%s:%s"


# --- shared -------------------------------------------------------------------------------------


def _language() -> str:
    return (get_language() or "ru").split("-")[0]


def _items_for_display(
    definition: dict[str, Any], answers: dict[str, Any], language: str
) -> list[dict[str, Any]]:
    rows = []
    for item in scoring.items(definition):
        number = str(item["number"])
        given = answers.get(number)
        chosen = set(given) if isinstance(given, list) else {given}
        rows.append(
            {
                "number": number,
                "type": item.get("type"),
                "text": scoring.localized(item.get("text"), language),
                "options": [
                    {
                        "value": o["value"],
                        "label": scoring.localized(o.get("label"), language),
                        "checked": o["value"] in chosen,
                    }
                    for o in scoring.item_options(definition, item)
                ],
                "answer": given if isinstance(given, str) else "",
            }
        )
    return rows


def _text_language(definition: dict[str, Any], language: str) -> str:
    """The language the items are shown in (the visitor's, when the instrument has it)."""
    languages = definition.get("languages") or ["en"]
    return language if language in languages else languages[0]


def _answers_from_post(definition: dict[str, Any], post: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in scoring.items(definition):
        number = str(item["number"])
        name = f"item-{number}"
        if item.get("type") == "text":
            answers[number] = post.get(name, "")
            continue
        raw = post.getlist(name) if item.get("type") == "multiple" else [post.get(name, "")]
        values = []
        for value in raw:
            try:
                values.append(int(value))
            except (TypeError, ValueError):
                continue
        if item.get("type") == "multiple":
            answers[number] = values
        elif values:
            answers[number] = values[0]
    return answers


def _client_render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    # A private link: not cached, not indexed, not sent on as a referrer.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _service_public(code: str) -> Service:
    service = Service.objects.filter(code=code, is_active=True).first()
    if service is None:
        raise Http404
    return service


def _booking_url(service: Service) -> str:
    name = "portal:book" if service.allows_self_booking else "portal:request"
    return reverse(name, args=[service.code])


# --- the client's pages -------------------------------------------------------------------------


def portal_list(request: HttpRequest, code: str) -> HttpResponse:
    """The questionnaires a service offers openly on the portal."""
    service = _service_public(code)
    language = _language()
    rows = []
    offered = services.portal_offers_surveys(service)
    for instrument in selectors.instruments_public() if offered else []:
        current = instrument.current_version
        if current is None:  # a public instrument has a version; none yet is nothing to offer
            continue
        definition = current.definition
        shown_in = _text_language(definition, language)
        title = scoring.localized(definition.get("title"), shown_in) or instrument.name
        rows.append({"code": instrument.code, "title": title, "lang": shown_in})
    return _client_render(
        request,
        "surveys/portal_list.html",
        {"service": service, "instruments": rows, "offered": offered},
    )


@require_http_methods(["GET", "POST"])
def portal_start(request: HttpRequest, code: str, instrument: str) -> HttpResponse:
    """An open questionnaire: the visitor starts (or resumes, in this browser) a private link."""
    service = _service_public(code)
    if not services.portal_offers_surveys(service):
        raise Http404
    try:
        found, version = selectors.instrument_public_get(code=instrument)
    except NotFound:
        raise Http404 from None
    key = SESSION_KEY % (service.pk, found.code)
    token = request.session.get(key)
    if token:
        open_one = Assignment.objects.filter(token=token).select_related("response").first()
        if open_one is not None and not open_one.is_expired:
            submitted = Response.objects.filter(
                assignment=open_one, status=Response.Status.SUBMITTED
            ).exists()
            if not submitted:
                return redirect("surveys:fill", token=token)
    if request.method == "POST":
        assignment = services.assignment_create(actor=None, service=service, version=version)
        request.session[key] = assignment.token
        return redirect("surveys:fill", token=assignment.token)
    language = _language()
    definition = version.definition
    return _client_render(
        request,
        "surveys/portal_start.html",
        {
            "service": service,
            "instrument": found,
            "title": scoring.localized(definition.get("title"), language) or found.name,
            "item_count": len(scoring.items(definition)),
            "shown_in": _text_language(definition, language),
            "translated": _text_language(definition, language) == language,
        },
    )


def _closed(request: HttpRequest, assignment: Assignment) -> HttpResponse:
    return _client_render(
        request,
        "surveys/closed.html",
        {"service": assignment.service, "booking_url": _booking_url(assignment.service)},
        status=410,
    )


@require_http_methods(["GET", "POST"])
def fill(request: HttpRequest, token: str) -> HttpResponse:
    """The questionnaire itself: one page, a draft kept on "Save", scored once on "Submit"."""
    try:
        assignment = selectors.assignment_by_token(token=token)
    except NotFound:
        raise Http404 from None
    response = Response.objects.filter(assignment=assignment).first()
    if response is not None and response.status == Response.Status.SUBMITTED:
        return redirect("surveys:done", token=token)
    if assignment.is_expired:
        return _closed(request, assignment)
    definition = assignment.version.definition
    answers: dict[str, Any] = dict(response.answers) if response else {}
    error_item = ""
    error = ""
    if request.method == "POST":
        answers = _answers_from_post(definition, request.POST)
        try:
            if request.POST.get("action") == "draft":
                services.response_save_draft(assignment=assignment, answers=answers)
                messages.success(request, _("Your answers are saved; you can come back later."))
                return redirect("surveys:fill", token=token)
            services.response_submit(
                assignment=assignment,
                answers=answers,
                submit_key=request.POST.get("submit_key", ""),
            )
            return redirect("surveys:done", token=token)
        except scoring.AnswerError as exc:
            error_item, error = exc.item, exc.message
        except DomainError:
            return _closed(request, assignment)
    language = _language()
    shown_in = _text_language(definition, language)
    return _client_render(
        request,
        "surveys/fill.html",
        {
            "service": assignment.service,
            "assignment": assignment,
            "title": scoring.localized(definition.get("title"), shown_in),
            "instructions": scoring.localized(definition.get("instructions"), shown_in),
            "items": _items_for_display(definition, answers, shown_in),
            "shown_in": shown_in,
            "translated": shown_in == language,
            "error_item": error_item,
            "error": error,
            "submit_key": secrets.token_urlsafe(16),
        },
        status=422 if error else 200,
    )


def done(request: HttpRequest, token: str) -> HttpResponse:
    """The feedback: the band's text for the client, crisis contacts on a risk answer, booking."""
    try:
        assignment = selectors.assignment_by_token(token=token)
    except NotFound:
        raise Http404 from None
    response = Response.objects.filter(assignment=assignment).select_related("result").first()
    if response is None or response.status != Response.Status.SUBMITTED:
        return redirect("surveys:fill", token=token)
    result = response.result
    band = result.band_definition()
    language = _language()
    shown_in = _text_language(assignment.version.definition, language)
    service = assignment.service
    return _client_render(
        request,
        "surveys/done.html",
        {
            "service": service,
            "result": result,
            "title": scoring.localized(assignment.version.definition.get("title"), shown_in),
            "shown_in": shown_in,
            "band_label": scoring.localized(band.get("label"), language),
            "band_text": scoring.localized(band.get("client_text"), language),
            "emergency_numbers": emergency_numbers(service.country) if result.risk else [],
            "booking_url": _booking_url(service),
            "self_booking": service.allows_self_booking,
        },
    )


# --- the staff's pages --------------------------------------------------------------------------


@role_required(Action.SURVEY_BUILD)
def instruments(request: StaffRequest) -> HttpResponse:
    return render(request, "surveys/instruments.html", {"instruments": selectors.instruments_all()})


class _InstrumentForm(TypedDict):
    """The builder's fields as the page shows them back."""

    code: str
    name: str
    is_public: bool
    definition: str


def _preview(definition: dict[str, Any]) -> dict[str, Any]:
    language = _language()
    return {
        "title": scoring.localized(definition.get("title"), language),
        "instructions": scoring.localized(definition.get("instructions"), language),
        "items": _items_for_display(definition, {}, _text_language(definition, language)),
        "bands": [
            {
                "min": b["min"],
                "max": b["max"],
                "label": scoring.localized(b.get("label"), language),
                "client_text": scoring.localized(b.get("client_text"), language),
                "consultant_text": scoring.localized(b.get("consultant_text"), language),
            }
            for b in definition.get("bands") or []
        ],
        "range": scoring.total_range(definition),
    }


@role_required(Action.SURVEY_BUILD)
@require_http_methods(["GET", "POST"])
def instrument_build(request: StaffRequest, code: str = "") -> HttpResponse:
    """The builder, one form row per item (and per option, subscale, band, risk rule): rows
    are added, removed and moved by plain round-trips; saving checks the whole definition,
    shows each problem next to its row, and makes a new version. The JSON editor
    (`instrument_edit`) stays as the advanced way."""
    instrument = Instrument.objects.filter(code=code).first() if code else None
    if code and instrument is None:
        raise Http404
    current = instrument.current_version if instrument else None
    if request.method == "GET":
        if instrument is not None and current is not None:
            form = builder.form_from_definition(
                code=instrument.code,
                name=instrument.name,
                is_public=instrument.is_public,
                definition=current.definition,
            )
        else:
            form = builder.blank_form()
        return _build_page(request, instrument, current, form)
    form = builder.form_from_post(request.POST)
    if instrument is not None:
        form["code"] = instrument.code  # its responses and links name it
    action = request.POST.get("action", "")
    if action not in ("preview", "save"):
        form, _row = builder.apply_action(form, action)
        return _build_page(request, instrument, current, form)
    definition = builder.definition_from_form(form)
    errors: list[str] = []
    rows: dict[str, list[str]] = {}
    try:
        scoring.validate_definition(definition)
    except scoring.DefinitionError as exc:
        rows = builder.row_errors(definition)
        errors = list(exc.messages)
        errors += [m for found in rows.values() for m in found if m not in errors]
    if not form["code"] or not form["name"]:
        errors.append(_("Give the questionnaire a code and a name."))
        rows.setdefault("identity", []).append(_("Give the questionnaire a code and a name."))
    if not errors and action == "save":
        try:
            version = services.instrument_version_create(
                actor=request.user,
                code=form["code"],
                name=form["name"],
                definition=definition,
                is_public=bool(form["is_public"]),
            )
        except ValidationError as exc:
            errors = [str(m) for m in exc.messages]
            rows.setdefault("identity", []).extend(errors)
        else:
            messages.success(
                request, _("Saved as version %(number)s.") % {"number": version.number}
            )
            return redirect("surveys:instrument_build", code=version.instrument.code)
    return _build_page(
        request,
        instrument,
        current,
        form,
        errors=errors,
        rows=rows,
        preview=None if errors else _preview(definition),
    )


def _build_page(
    request: StaffRequest,
    instrument: Instrument | None,
    current: InstrumentVersion | None,
    form: builder.Form,
    *,
    errors: list[str] | None = None,
    rows: dict[str, list[str]] | None = None,
    preview: dict[str, Any] | None = None,
) -> HttpResponse:
    rows = rows or {}
    languages = [("ru", _("Russian")), ("kk", _("Kazakh")), ("en", _("English"))]

    def texts(row: dict[str, Any], *keys: str) -> None:
        # The template walks (code, language, value) rows: no dictionary lookups there.
        for key in keys:
            row[f"{key}_l"] = [(c, name, row[key].get(c, "")) for c, name in languages]

    texts(form, "title", "instructions")
    for index, option in enumerate(form["options"]):
        option["p"] = f"opt-{index}"
        texts(option, "label")
    for index, item in enumerate(form["items"]):
        item["p"] = f"item-{index}"
        item["errors"] = rows.get(f"item-{index}", [])
        texts(item, "text")
        for j, option in enumerate(item["options"]):
            option["p"] = f"item-{index}-opt-{j}"
            texts(option, "label")
    for index, sub in enumerate(form["subscales"]):
        sub["p"] = f"sub-{index}"
        texts(sub, "title")
    for index, band in enumerate(form["bands"]):
        band["p"] = f"band-{index}"
        texts(band, "label", "client_text", "consultant_text")
    for index, rule in enumerate(form["risk_rules"]):
        rule["p"] = f"risk-{index}"
        texts(rule, "text")
    for key, name in (("band", "bands"), ("risk", "risk_rules"), ("sub", "subscales")):
        for index, row in enumerate(form[name]):
            row["errors"] = rows.get(f"{key}-{index}", [])
    return render(
        request,
        "surveys/instrument_build.html",
        {
            "instrument": instrument,
            "current": current,
            "form": form,
            "errors": errors or [],
            "scale_errors": rows.get("scale-options", []),
            "identity_errors": rows.get("identity", []),
            "preview": preview,
            "item_types": [
                ("scale", _("Scale (the common answer options)")),
                ("single", _("Single choice")),
                ("multiple", _("Multiple choice")),
                ("text", _("Free text")),
            ],
        },
        status=400 if errors else 200,
    )


@role_required(Action.SURVEY_BUILD)
@require_http_methods(["GET", "POST"])
def instrument_edit(request: StaffRequest, code: str = "") -> HttpResponse:
    """The builder: a definition as JSON, checked and previewed before it is saved as a new
    version (an inconsistent one is refused with the reasons)."""
    instrument = Instrument.objects.filter(code=code).first() if code else None
    if code and instrument is None:
        raise Http404
    current = instrument.current_version if instrument else None
    form: _InstrumentForm = {
        "code": instrument.code if instrument else "",
        "name": instrument.name if instrument else "",
        "is_public": instrument.is_public if instrument else False,
        "definition": json.dumps(
            current.definition if current else SHIPPED["gad-7"][1], ensure_ascii=False, indent=2
        ),
    }
    errors: list[str] = []
    preview: dict[str, Any] | None = None
    if request.method == "POST":
        form = {
            # An existing instrument keeps its code (its responses and links name it).
            "code": instrument.code if instrument else request.POST.get("code", "").strip()[:40],
            "name": request.POST.get("name", "").strip()[:200],
            "is_public": request.POST.get("is_public") == "on",
            "definition": request.POST.get("definition", ""),
        }
        definition: Any = None
        try:
            definition = json.loads(form["definition"])
            scoring.validate_definition(definition)
        except json.JSONDecodeError as exc:
            errors = [_("The definition is not valid JSON (line %(line)s).") % {"line": exc.lineno}]
        except scoring.DefinitionError as exc:
            errors = exc.messages
        if not form["code"] or not form["name"]:
            errors.append(_("Give the questionnaire a code and a name."))
        if not errors and request.POST.get("action") == "save":
            try:
                version = services.instrument_version_create(
                    actor=request.user,
                    code=form["code"],
                    name=form["name"],
                    definition=definition,
                    is_public=bool(form["is_public"]),
                )
            except ValidationError as exc:
                errors = [str(m) for m in exc.messages]
            else:
                messages.success(
                    request,
                    _("Saved as version %(number)s.") % {"number": version.number},
                )
                return redirect("surveys:instrument_edit", code=version.instrument.code)
        if not errors:
            preview = _preview(definition)
    return render(
        request,
        "surveys/instrument_edit.html",
        {
            "instrument": instrument,
            "current": current,
            "form": form,
            "errors": errors,
            "preview": preview,
        },
        status=400 if errors else 200,
    )


@role_required(Action.SURVEY_RESULTS)
@require_http_methods(["GET", "POST"])
def request_results(request: StaffRequest, pk: int) -> HttpResponse:
    """A request's questionnaires: results of its client, links given, and assigning a new one."""
    try:
        service_request = selectors.request_for_results(actor=request.user, pk=pk)
    except (NotFound, PermissionDenied):
        raise Http404 from None
    if request.method == "POST":
        version = (
            InstrumentVersion.objects.filter(
                instrument__code=request.POST.get("instrument", ""), instrument__is_active=True
            )
            .order_by("-number")
            .first()
        )
        if version is None:
            messages.error(request, _("Choose a questionnaire."))
        else:
            services.assignment_create(
                actor=request.user,
                service=service_request.service,
                version=version,
                request=service_request,
            )
            messages.success(request, _("The questionnaire is assigned: send the client the link."))
        return redirect("surveys:request_results", pk=pk)
    results = selectors.results_for_request(actor=request.user, request=service_request)
    language = _language()
    rows = [
        {
            "result": r,
            "band_label": scoring.localized(r.band_definition().get("label"), language),
        }
        for r in results
    ]
    assignments = [
        {
            "assignment": a,
            "url": request.build_absolute_uri(reverse("surveys:fill", args=[a.token])),
        }
        for a in selectors.assignments_for_request(actor=request.user, request=service_request)
    ]
    return render(
        request,
        "surveys/request_results.html",
        {
            "service_request": service_request,
            "rows": rows,
            "assignments": assignments,
            "instruments": selectors.instruments_all(),
        },
    )


@role_required(Action.SURVEY_RESULTS)
def result_detail(request: StaffRequest, pk: int) -> HttpResponse:
    """One result for the consultant: total, band with the consultant's text, risk, answers."""
    try:
        result = selectors.result_get_for_view(actor=request.user, pk=pk)
    except (NotFound, PermissionDenied):
        raise Http404 from None
    definition = result.version.definition
    band = result.band_definition()
    language = _language()
    shown_in = _text_language(definition, language)
    return render(
        request,
        "surveys/result.html",
        {
            "result": result,
            "title": scoring.localized(definition.get("title"), shown_in),
            "shown_in": shown_in,
            "band_label": scoring.localized(band.get("label"), language),
            "consultant_text": scoring.localized(band.get("consultant_text"), language),
            "risk_texts": [
                scoring.localized(rule.get("text"), language)
                for rule in definition.get("risk_rules") or []
                if str(rule.get("item")) in result.risk_items
            ],
            "items": _items_for_display(definition, result.response.answers, shown_in),
        },
    )
