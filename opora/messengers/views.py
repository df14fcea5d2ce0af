"""Webhooks of the messengers (thin: verify, store, answer) and the consultant's pages."""

from __future__ import annotations

import io
import json
import logging

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opora.accounts.policy import Action, can
from opora.accounts.workplace import StaffRequest
from opora.core.errors import DomainError
from opora.messengers import selectors, services
from opora.messengers.adapters import get_adapter
from opora.messengers.models import ChannelAccount
from opora.messengers.reply_files import read_reply_file
from opora.web.decorators import role_required
from opora.web.views.common import go, lookup_error, page

logger = logging.getLogger("opora.messengers")

MAX_BODY = 1024 * 1024


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, channel: str, slug: str) -> HttpResponse:
    """Verify the call, store its messages (before answering), answer as the provider expects."""
    account = (
        ChannelAccount.objects.select_related("service")
        .filter(channel=channel, slug=slug, is_active=True)
        .first()
    )
    if account is None:
        raise Http404
    adapter = get_adapter(account)
    if request.method == "GET":
        answer = adapter.subscribe(request)
        if answer is None:
            return HttpResponse(status=405)
        return answer
    body = request.body
    if len(body) > MAX_BODY:
        return HttpResponse(status=413)
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = None
    if not adapter.verify(request, body, data):
        # No content in the log: only which account refused what.
        logger.warning("messengers: webhook refused, bad signature (%s %s)", channel, account.pk)
        return HttpResponse(status=403)
    if not isinstance(data, dict):
        return HttpResponse(status=400)
    early = adapter.handshake(data)
    if early is not None:
        return early
    services.inbound_store(account=account, messages=adapter.parse(data))
    return adapter.ack()


@role_required(Action.MESSENGER_VIEW)
def conversation_list(request: StaffRequest) -> HttpResponse:
    show_all = request.GET.get("all") == "1"
    conversations = list(
        selectors.conversations_for_staff(actor=request.user, unanswered_only=not show_all)
    )
    # Conversations of every service the user works for: each row names its service.
    by_pk = {s.pk: s for s in request.staff_services}
    for conversation in conversations:
        # Read by the template; the service rows are loaded once above, not once per row.
        conversation.service = by_pk.get(conversation.account.service_id)  # type: ignore[attr-defined]
    return page(
        request,
        "messengers/conversations.html",
        {"nav": "messengers", "conversations": conversations, "show_all": show_all},
    )


@role_required(Action.MESSENGER_VIEW)
@require_http_methods(["GET", "POST"])
def conversation_detail(request: StaffRequest, pk: int) -> HttpResponse:
    try:
        conversation = selectors.conversation_get(actor=request.user, pk=pk)
    except DomainError as err:
        return lookup_error(request, err)
    error = ""
    text = ""
    if request.method == "POST":
        text = request.POST.get("text", "")
        upload = request.FILES.get("file")
        try:
            services.conversation_reply(
                actor=request.user, conversation=conversation, text=text, file=upload
            )
        except DomainError as err:
            error = str(err.message)
        else:
            messages.success(request, _("The answer is sent to the client's messenger."))
            return go(request, reverse("messengers:conversation", args=[conversation.pk]))
    return page(
        request,
        "messengers/conversation.html",
        {
            "nav": "messengers",
            "conversation": conversation,
            "history": selectors.conversation_history(conversation=conversation),
            "error": error,
            "text": text,
            "consultation": services.conversation_consultation(conversation=conversation),
            "may_take_up": can(request.user, Action.CONSULTATION_TAKE_WRITTEN),
        },
        status=400 if error else 200,
    )


@role_required(Action.CONSULTATION_TAKE_WRITTEN)
@require_POST
def take_up(request: StaffRequest, pk: int) -> HttpResponse:
    """The consultant takes the conversation up as a written consultation (issue 12)."""
    try:
        conversation = selectors.conversation_get(actor=request.user, pk=pk)
    except DomainError as err:
        return lookup_error(request, err)
    try:
        services.conversation_take_up(actor=request.user, conversation=conversation)
    except DomainError as err:
        messages.error(request, str(err.message))
    else:
        messages.success(request, _("The thread is taken up as a consultation."))
    return go(request, reverse("messengers:conversation", args=[conversation.pk]))


@role_required(Action.CONSULTATION_TAKE_WRITTEN)
@require_POST
def close_written(request: StaffRequest, pk: int) -> HttpResponse:
    """The written consultation is answered: closed; the protocol page opens."""
    try:
        conversation = selectors.conversation_get(actor=request.user, pk=pk)
    except DomainError as err:
        return lookup_error(request, err)
    try:
        consultation = services.conversation_close(actor=request.user, conversation=conversation)
    except DomainError as err:
        messages.error(request, str(err.message))
        return go(request, reverse("messengers:conversation", args=[conversation.pk]))
    return go(request, reverse("consultations:protocol", args=[consultation.pk]))


@never_cache
@require_GET
def reply_file(request: HttpRequest, token: str) -> FileResponse:
    """The file of one outgoing message through its signed, expiring public link (Viber fetches
    files only from a public address); any other link: 404."""
    try:
        message = selectors.reply_file_by_link(token=token)
    except DomainError:
        raise Http404 from None
    response = FileResponse(
        io.BytesIO(read_reply_file(message.file)),
        as_attachment=True,
        filename=message.file_name or "document",
        content_type="application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    return response
