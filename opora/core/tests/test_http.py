from django.test import AsyncRequestFactory, RequestFactory

from opora.core.http import streaming_response
from opora.core.testing import run_async


def _chunks(log: list):
    for i in range(3):
        log.append(i)
        yield f"part{i};".encode()


def test_under_asgi_chunks_are_produced_one_by_one_as_they_are_sent():
    log: list = []
    response = streaming_response(AsyncRequestFactory().get("/x"), _chunks(log))
    assert response.is_async

    @run_async
    async def read() -> list[bytes]:
        parts = []
        async for part in response.streaming_content:
            parts.append(part)
            assert log == list(range(len(parts)))  # nothing produced ahead of sending
        return parts

    assert b"".join(read()) == b"part0;part1;part2;"


def test_under_wsgi_the_iterator_is_streamed_as_it_is():
    response = streaming_response(
        RequestFactory().get("/x"), _chunks([]), content_type="video/webm"
    )
    assert not response.is_async and response["Content-Type"] == "video/webm"
    assert response.getvalue() == b"part0;part1;part2;"
