"""The portal's part of the requests' retention (registered in `PortalConfig.ready` under the
kind "requests", run by `core.retention` beside intake's purger, which cannot import portal): past
the request's term, or once the request is anonymised, its portal submission keeps its channel,
language and date but not the messenger contact the client gave for the answer."""

from __future__ import annotations

from opora.intake.retention import purge_with_requests
from opora.portal.models import PortalSubmission

purge_reply_contacts = purge_with_requests(PortalSubmission, ("reply_contact",))
