"""Camera and microphone only in the room and its device check; the room's pages never stored
(opora.core.http.SecurityHeadersMiddleware)."""

import pytest
from django.urls import reverse

from opora.consultations.tests.factories import make_live_consultation
from opora.core.tests.test_security_headers import _directives, _strict

pytestmark = pytest.mark.django_db


def test_only_the_room_and_its_device_check_may_use_camera_and_microphone(
    client, service, consultant
):
    live = make_live_consultation(service, consultant)
    client.post(reverse("consultations:client_entry", args=[live.client_token]))  # the notice
    for name in ("consultations:device_check", "consultations:client_room"):
        response = client.get(reverse(name, args=[live.client_token]))
        assert response.status_code == 200, name
        _strict(response)
        assert "camera=(self)" in response["Permissions-Policy"], name
        assert "microphone=(self)" in response["Permissions-Policy"], name
        assert "no-store" in response["Cache-Control"], name
        # The room's WebSocket and media are allowed; nothing from elsewhere.
        d = _directives(response)
        assert "ws://testserver" in d["connect-src"] and d["media-src"] == "'self' blob:"
    # The client's link page before the room asks for nothing.
    entry = client.get(reverse("consultations:client_entry", args=[live.client_token]))
    assert "camera=()" in entry["Permissions-Policy"] and "no-store" in entry["Cache-Control"]
    client.force_login(consultant)
    room = client.get(reverse("consultations:consultant_room", args=[live.pk]))
    assert room.status_code == 200
    assert "camera=(self)" in room["Permissions-Policy"]
