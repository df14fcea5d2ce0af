"""Role checks for the staff screens: a person without the role gets a plain 403 page, never a trace.

The same decorator decides which service a screen works in (`request.service`): the one the staff
member chose, checked against their services on every request — or, on a page of one record
(`service_from`), that record's service, which then becomes their choice. It lives in
`accounts.workplace` so that the pages of the domains below `web` (consultations) use it too.
"""

from opora.accounts.workplace import (
    REQUEST_OF_SERVICE,
    follow_record,
    forbidden,
    role_required,
    service_use,
)

__all__ = ["REQUEST_OF_SERVICE", "follow_record", "forbidden", "role_required", "service_use"]
