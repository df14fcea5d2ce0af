"""Many threads booking the same slots at once; shared by the PostgreSQL and SQLite race tests."""

import threading
from collections import Counter

from django.db import connection

from opora.core.errors import Conflict
from opora.scheduling import services


def race(*, actor, requests, slots) -> tuple[Counter, list[str], list[int]]:
    """Each thread books its own request on the first of `slots` it can get.

    Returns (outcomes, unexpected errors, booked slot ids). All threads start together at a
    barrier; each uses and then closes its own database connection.
    """
    barrier = threading.Barrier(len(requests))
    lock = threading.Lock()
    outcomes: Counter = Counter()
    errors: list[str] = []
    booked: list[int] = []

    def worker(request) -> None:
        result = "conflict"
        try:
            barrier.wait(timeout=60)
            for slot in slots:
                try:
                    booking = services.booking_create(actor=actor, request=request, slot=slot)
                except Conflict:
                    continue
                result = "booked"
                with lock:
                    booked.append(booking.slot_id)
                break
        except Exception as exc:  # noqa: BLE001 - anything but Conflict is a failure to report
            result = "error"
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=worker, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes, errors, booked
