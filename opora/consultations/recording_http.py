"""The HTTP side of the recording store, for both rooms' views (the 1:1 room's and an event's).

The browser's recorder (`opora/static/opora/recorder.js`) reads the start's answer and posts
chunks as raw bodies; the head's download is a streamed, never cached attachment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.functional import Promise
from django.views.decorators.http import require_POST

from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest, role_required
from opora.consultations import recording_store as store
from opora.consultations.recording_models import RecordingBase, RecordingChunkBase
from opora.core.errors import DomainError
from opora.core.http import streaming_response

R = TypeVar("R", bound=RecordingBase)
StrOrPromise = str | Promise


def json_error(message: object, *, code: str, status: int) -> JsonResponse:
    return JsonResponse({"ok": False, "error": str(message), "code": code}, status=status)


def recording_started(recording: RecordingBase, *, chunk_url: str, finish_url: str) -> JsonResponse:
    """The start's answer: where the recorder posts chunks (`chunk_url` ends in `0/`, which the
    recorder replaces with each chunk's number) and the finish."""
    return JsonResponse(
        {"ok": True, "id": recording.pk, "chunkUrl": chunk_url, "finishUrl": finish_url}
    )


def recorder_views(
    *,
    action: Action,
    find: Callable[[StaffRequest, int], R | None],
    forbidden: StrOrPromise,
    store_chunk: Callable[..., tuple[RecordingChunkBase, bool]],
    finish: Callable[..., R],
) -> tuple[Callable[..., HttpResponse], Callable[..., HttpResponse]]:
    """A room's two upload endpoints for the recorder (JSON): a chunk and the finish.

    `find(request, recording_id)` is the recording the user may upload into (None: a 403 saying
    `forbidden`); `store_chunk(actor=, recording=, seq=, data=)` and `finish(actor=, recording=)`
    are the room's services. A refusal is a 409 with its reason, which stops the recorder.
    """

    @role_required(action)
    @require_POST
    def chunk_view(request: StaffRequest, recording_id: int, seq: int) -> JsonResponse:
        """One chunk of the recording as the raw request body (5 s of WebM)."""
        recording = find(request, recording_id)
        if recording is None:
            return json_error(forbidden, code="forbidden", status=403)
        # The raw stream, not request.body (which stops at DATA_UPLOAD_MAX_MEMORY_SIZE); one byte
        # over the limit is enough for the store to refuse it.
        data = request.read(store.chunk_max_bytes() + 1)
        try:
            chunk, created = store_chunk(
                actor=request.user, recording=recording, seq=seq, data=data
            )
        except DomainError as e:
            return json_error(e.message, code=e.code, status=409)
        return JsonResponse({"ok": True, "seq": chunk.seq, "duplicate": not created})

    @role_required(action)
    @require_POST
    def finish_view(request: StaffRequest, recording_id: int) -> JsonResponse:
        """The recorder stopped and sent its last chunk: the totals as sealed."""
        recording = find(request, recording_id)
        if recording is None:
            return json_error(forbidden, code="forbidden", status=403)
        try:
            recording = finish(actor=request.user, recording=recording)
        except DomainError as e:
            return json_error(e.message, code=e.code, status=409)
        return JsonResponse(
            {
                "ok": True,
                "chunks": recording.chunk_count,
                "size": recording.size,
                "sha256": recording.sha256,
            }
        )

    return chunk_view, finish_view


def recording_download(
    request: HttpRequest, recording: RecordingBase, stream: Iterator[bytes], *, filename: str
) -> StreamingHttpResponse:
    """The decrypted recording as an attachment (the read was logged by the service)."""
    response = streaming_response(request, stream, content_type=recording.mime_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
