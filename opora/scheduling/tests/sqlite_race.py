"""Run by test_concurrency_sqlite in a fresh process: the embedded default (a SQLite file) under a
20-thread race for one slot. Prints the outcome as JSON."""

import datetime as dt
import json
import os


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opora.settings.local")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    from opora.accounts.models import Role
    from opora.demo.factories import make_consultant, make_service_1411, make_user
    from opora.scheduling.models import Booking
    from opora.scheduling.tests.factories import future_working_day, make_request, make_slot
    from opora.scheduling.tests.race import race

    service = make_service_1411()
    operator = make_user(Role.OPERATOR, service=service)
    consultant = make_consultant(service)
    slot = make_slot(service, consultant, future_working_day(service), dt.time(15))
    requests = [make_request(service) for _ in range(20)]
    connection.close()
    outcomes, errors, _booked = race(actor=operator, requests=requests, slots=[slot])
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "booked": outcomes["booked"],
                "conflict": outcomes["conflict"],
                "errors": errors,
                "active_bookings": Booking.objects.filter(slot=slot, status="active").count(),
                "bookings": Booking.objects.count(),
            }
        )
    )


if __name__ == "__main__":
    main()
