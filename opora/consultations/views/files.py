"""Files in the chat."""

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from opora.accounts.actors import Actor
from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest, role_required
from opora.consultations import files as chat_files
from opora.consultations import selectors, services
from opora.consultations.models import (
    Consultation,
)
from opora.consultations.views._common import _client_consultation, _json_error, _own_consultation
from opora.core.errors import DomainError

# --- Files in the chat ----------------------------------------------------------------------------


def _file_upload(request: HttpRequest, consultation: Consultation, sender: str) -> JsonResponse:
    upload = request.FILES.get("file")
    if upload is None:
        return _json_error(_("Choose a file."), code="no_file")
    limit = chat_files.max_bytes()
    # An upload Django parsed always has both (the stubs allow None for a file built by hand).
    size, name = upload.size or 0, upload.name or ""
    try:
        if size > limit:
            chat_files.check_extension(name)  # a wrong type is named as such first
            raise DomainError(chat_files.too_large_message(size), code="file_too_large")
        message = services.chat_file_create(
            consultation_id=consultation.pk,
            sender=sender,
            name=name,
            data=upload.read(),
            client_msg_id=request.POST.get("client_msg_id", ""),
        )
    except DomainError as e:
        return _json_error(e.message, code=e.code)
    return JsonResponse({"ok": True, "message": selectors.chat_message_payload(message)})


def _file_download(
    consultation: Consultation, seq: int, *, actor: Actor | None, reader: str
) -> HttpResponse:
    try:
        attachment, data = services.chat_file_read(
            consultation=consultation, seq=seq, actor=actor, reader=reader
        )
    except DomainError:
        raise Http404 from None
    # The file is small (OPORA_CHAT_FILE_MAX_BYTES) and already decrypted in memory: one plain
    # response, which ASGI sends without reading a file iterator into memory a second time.
    response = HttpResponse(data, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, attachment.name)
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def client_file_upload(request: HttpRequest, token: str) -> HttpResponse:
    consultation, refusal = _client_consultation(request, token, allow_early=False)
    if refusal is not None or consultation is None:
        return _json_error(_("This link does not open the room now."), code="closed", status=403)
    return _file_upload(request, consultation, "client")


@never_cache
@require_GET
def client_file(request: HttpRequest, token: str, seq: int) -> HttpResponse:
    """A chat file for the client: the personal link is the key (also after the consultation:
    these are the materials they were sent)."""
    consultation = selectors.consultation_by_token(token)
    if consultation is None:
        raise Http404
    return _file_download(consultation, seq, actor=None, reader="client")


@role_required(Action.CONSULTATION_CONDUCT)
@require_POST
def consultant_file_upload(request: StaffRequest, consultation_id: int) -> HttpResponse:
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None or consultation is None:
        return _json_error(
            _("Only the consultant booked for this consultation can open this page."),
            code="forbidden",
            status=403,
        )
    return _file_upload(request, consultation, "consultant")


@never_cache
@role_required(Action.CONSULTATION_CONDUCT)
@require_GET
def consultant_file(request: StaffRequest, consultation_id: int, seq: int) -> HttpResponse:
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None or consultation is None:
        return refusal or HttpResponse(status=403)
    return _file_download(consultation, seq, actor=request.user, reader="consultant")
