"""The HTTP side of the recording store, for both rooms' views (the 1:1 room's and an event's).

The browser's recorder (`opora/static/opora/recorder.js`) reads the start's answer and posts
chunks as raw bodies; the head's download is a streamed, never cached attachment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.http import HttpRequest, JsonResponse, StreamingHttpResponse

from opora.consultations import recording_store as store
from opora.consultations.recording_models import RecordingBase, RecordingChunkBase
from opora.core.errors import DomainError
from opora.core.http import streaming_response


def json_error(message: object, *, code: str, status: int) -> JsonResponse:
    return JsonResponse({"ok": False, "error": str(message), "code": code}, status=status)


def recording_started(recording: RecordingBase, *, chunk_url: str, finish_url: str) -> JsonResponse:
    """The start's answer: where the recorder posts chunks (`chunk_url` ends in `0/`, which the
    recorder replaces with each chunk's number) and the finish."""
    return JsonResponse(
        {"ok": True, "id": recording.pk, "chunkUrl": chunk_url, "finishUrl": finish_url}
    )


def recording_chunk_received(
    request: HttpRequest, store_chunk: Callable[[bytes], tuple[RecordingChunkBase, bool]]
) -> JsonResponse:
    """Read one chunk from the raw request body and store it (`store_chunk(data)`): a refusal is
    a 409 with its reason, which stops the recorder."""
    # The raw stream, not request.body (which stops at DATA_UPLOAD_MAX_MEMORY_SIZE); one byte over
    # the limit is enough for the store to refuse it.
    data = request.read(store.chunk_max_bytes() + 1)
    try:
        chunk, created = store_chunk(data)
    except DomainError as e:
        return json_error(e.message, code=e.code, status=409)
    return JsonResponse({"ok": True, "seq": chunk.seq, "duplicate": not created})


def recording_download(
    request: HttpRequest, recording: RecordingBase, stream: Iterator[bytes], *, filename: str
) -> StreamingHttpResponse:
    """The decrypted recording as an attachment (the read was logged by the service)."""
    response = streaming_response(request, stream, content_type=recording.mime_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
