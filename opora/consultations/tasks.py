from celery import shared_task

from opora.consultations.services import recordings_close_abandoned


@shared_task
def close_abandoned_recordings() -> int:
    """Seal recordings left running by a crashed browser or a closed tab (every 5 minutes)."""
    return recordings_close_abandoned()
