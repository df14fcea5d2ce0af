"""Issue 12: the portal's request form offers the topic (the seven classes of regulation 002)."""

import pytest
from django import forms

from opora.portal.forms import PortalRequestForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_service(service):
    service.eligibility_rule = "none"
    service.save()
    return service


def test_the_portal_form_offers_the_topic(client, open_service):
    form = PortalRequestForm(service=open_service)
    field = form.fields["topic"]
    assert isinstance(field, forms.ChoiceField)
    choices = dict(list(field.choices))  # type: ignore[arg-type]  # flat choices here
    assert len(choices) == 8 and "7" in choices  # «Not sure» and the seven classes
    bound = PortalRequestForm(
        {
            "requester_kind": "parent",
            "reason": "Трудности в школе",
            "topic": "5",
            "full_name": "Тестова Мария Ивановна",
            "phone": "+7 701 000 00 09",
            "email": "parent@example.org",
            "reply_channel": "email",
            "consent": "on",
        },
        service=open_service,
    )
    bound.is_valid()
    assert bound.cleaned_data.get("topic") == "5"
    assert bound.to_request().topic == "5"
