"""The parent's questionnaire (`/q/<token>/`, phone first, no sign-in) and the staff's results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest, role_required
from opora.core.inputs import parse_date_param
from opora.core.models import Service
from opora.quality import selectors, services, texts
from opora.quality.charts import bars
from opora.quality.models import CRITERIA, Evaluation, MoreOf


def _private(response: HttpResponse) -> HttpResponse:
    # The address is a bearer secret: never cached, indexed or passed on as a referrer.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _values(evaluation: Evaluation, data: Mapping[str, Any] | None = None) -> dict[str, str]:
    """What the form shows: the posted values (kept after an error), else the stored draft."""
    names = [name for name, _label in CRITERIA] + ["more_of", "impressions", "wishes"]
    if data is not None:
        return {name: str(data.get(name, "")) for name in names}
    return {
        name: "" if getattr(evaluation, name) is None else str(getattr(evaluation, name))
        for name in names
    }


def _page(
    request: HttpRequest,
    evaluation: Evaluation,
    *,
    template: str = "quality/evaluation.html",
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    service = evaluation.service
    with timezone.override(service.tz):
        values = extra.pop("values", None) or _values(evaluation)
        errors = extra.pop("errors", {})
        items = [
            {
                "name": name,
                "number": i,
                "label": label,
                "value": values.get(name, ""),
                "error": errors.get(name, ""),
            }
            for i, (name, label) in enumerate(CRITERIA, start=1)
        ]
        context = {
            "evaluation": evaluation,
            "quality_service": service,
            "texts": texts,
            "items": items,
            "scale": range(1, 6),
            "more_of_choices": MoreOf.choices,
            "values": values,
            "errors": errors,
            "until": timezone.localtime(evaluation.closes_at - dt.timedelta(seconds=1)),
            "served": timezone.localtime(evaluation.served_at),
            **extra,
        }
        response = TemplateResponse(request, template, context, status=status).render()
    return _private(response)


def _not_found(request: HttpRequest) -> HttpResponse:
    return _private(TemplateResponse(request, "404.html", {}, status=404).render())


@require_http_methods(["GET", "POST"])
def evaluation_page(request: HttpRequest, token: str) -> HttpResponse:
    """The questionnaire; "save and finish later" keeps a draft; "send" stores it once."""
    evaluation = selectors.evaluation_by_token(token)
    if evaluation is None:
        return _not_found(request)
    if evaluation.submitted_at is not None:
        return _page(request, evaluation, template="quality/thanks.html")
    if not selectors.evaluation_is_open(evaluation):
        return _page(request, evaluation, template="quality/closed.html", status=410)
    if request.method == "GET":
        return _page(request, evaluation, saved=request.GET.get("saved") == "1")
    action = request.POST.get("action", "submit")
    try:
        if action == "save":
            services.evaluation_save_draft(evaluation=evaluation, data=request.POST)
            return redirect(f"{request.path}?saved=1#evaluation-saved")
        services.evaluation_submit(evaluation=evaluation, data=request.POST)
    except ValidationError as exc:
        errors = {name: " ".join(messages) for name, messages in exc.message_dict.items()}
        return _page(
            request, evaluation, values=_values(evaluation, request.POST), errors=errors, status=400
        )
    except services.AlreadySubmitted:
        pass
    except services.WindowClosed:
        return _page(request, evaluation, template="quality/closed.html", status=410)
    return redirect("quality:evaluation", token=token)


@require_POST
def evaluation_draft(request: HttpRequest, token: str) -> HttpResponse:
    """htmx: the draft saved on each change; answers a short status for the live region."""
    evaluation = selectors.evaluation_by_token(token)
    if evaluation is None:
        return _not_found(request)
    try:
        services.evaluation_save_draft(evaluation=evaluation, data=request.POST)
    except ValidationError as exc:
        message = " ".join(m for messages in exc.message_dict.values() for m in messages)
        status = 400
    except (services.AlreadySubmitted, services.WindowClosed) as exc:
        message, status = str(exc.message), 409
    else:
        message, status = _("Your answers are saved. You can finish later with the same link."), 200
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    return _private(response)


# --- staff ------------------------------------------------------------------------------------------


def _period(request: HttpRequest, service: Service) -> tuple[dt.date, dt.date]:
    today = timezone.localtime(timezone.now(), service.tz).date()
    date_to = parse_date_param(request.GET.get("to"), field="to") or today
    date_from = parse_date_param(request.GET.get("from"), field="from") or (
        date_to - dt.timedelta(days=29)
    )
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    return date_from, date_to


DIMENSION_TITLES = {
    "consultant": "By consultant",
    "topic": "By topic",
    "form": "By form",
    "channel": "By channel",
}


@role_required(Action.QUALITY_RESULTS)
def results(request: StaffRequest) -> HttpResponse:
    """The head's results of the current service for a period."""
    date_from, date_to = _period(request, request.service)
    found = selectors.results_for_head(
        actor=request.user, service=request.service, date_from=date_from, date_to=date_to
    )
    criteria_chart = bars(
        [
            (f"{i}. {label}", mean)
            for i, ((_n, label), mean) in enumerate(
                zip(CRITERIA, found.total.means, strict=True), start=1
            )
        ]
    )
    sections = []
    for dimension, groups in found.by.items():
        sections.append(
            {
                "key": dimension,
                "groups": groups,
                "chart": bars([(g.label, g.mean) for g in groups]),
            }
        )
    return TemplateResponse(
        request,
        "quality/results.html",
        {
            "nav": "quality",
            "results": found,
            "criteria": [label for _n, label in CRITERIA],
            "criteria_chart": criteria_chart,
            "sections": sections,
            "more_of_question": texts.MORE_OF_QUESTION,
            "more_of_rows": [
                (label, found.total.more_of.get(value, 0)) for value, label in MoreOf.choices
            ],
            "threshold": selectors.quality_settings_for(request.service).low_score_threshold,
        },
    )


@role_required(Action.QUALITY_OWN_RESULTS)
def my_results(request: StaffRequest) -> HttpResponse:
    """A consultant's own aggregates, shown from five responses on."""
    date_from, date_to = _period(request, request.service)
    group, answered = selectors.results_for_consultant(
        actor=request.user, service=request.service, date_from=date_from, date_to=date_to
    )
    chart = None
    if group is not None:
        chart = bars(
            [
                (f"{i}. {label}", mean)
                for i, ((_n, label), mean) in enumerate(
                    zip(CRITERIA, group.means, strict=True), start=1
                )
            ]
        )
    return TemplateResponse(
        request,
        "quality/mine.html",
        {
            "nav": "quality_mine",
            "group": group,
            "answered": answered,
            "minimum": selectors.CONSULTANT_MIN_RESPONSES,
            "chart": chart,
            "date_from": date_from,
            "date_to": date_to,
            "criteria": [label for _n, label in CRITERIA],
        },
    )
