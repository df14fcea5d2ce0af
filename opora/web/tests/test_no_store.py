"""A staff page with a client's IIN and the reason of the request is never stored by a browser
or a proxy (opora.core.http.SecurityHeadersMiddleware)."""

from django.urls import reverse

from .test_operator import register_request


def test_the_request_page_with_an_iin_is_sent_with_no_store(
    operator_client, registry_parent, parent_iin
):
    request = register_request(operator_client, parent_iin)
    page = operator_client.get(reverse("operator_request", args=[request.pk]))
    assert page.status_code == 200 and parent_iin in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert "script-src 'self';" in page["Content-Security-Policy"]
