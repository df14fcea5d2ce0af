"""HTTP helpers shared by the apps' views."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse

_END = object()


def streaming_response(
    request: HttpRequest, chunks: Iterator[bytes], **kwargs: Any
) -> StreamingHttpResponse:
    """A streamed download of `chunks` (blocking work such as reading and decrypting files).

    Served through ASGI (uvicorn, as in production), Django would read a plain iterator to the end
    into memory before sending a byte; here each chunk is produced in a worker thread and sent as
    it comes, so a large recording never sits whole in the server's memory. Under WSGI (the test
    client) the iterator is streamed as it is.
    """
    if not isinstance(request, ASGIRequest):
        return StreamingHttpResponse(chunks, **kwargs)
    produce = sync_to_async(next, thread_sensitive=False)

    async def each() -> AsyncIterator[bytes]:
        while (chunk := await produce(chunks, _END)) is not _END:
            yield chunk

    return StreamingHttpResponse(each(), **kwargs)
