from celery import shared_task

from backend.waitlist.matching import waitlist_match_salon, waitlist_offer_lapse, waitlist_sweep


@shared_task(name="waitlist.match", ignore_result=True)
def match(salon_id: int) -> int:
    """Freed time at a salon: its waiting entries get the offers the freed dates now allow. Safe to run
    twice (a round finding no unread freed time does nothing)."""
    return waitlist_match_salon(salon_id=salon_id)


@shared_task(name="waitlist.lapse_offer", ignore_result=True)
def lapse_offer(offer_id: int) -> bool:
    """An offer's time is up: unanswered, it lapses and its slot goes to the next entry."""
    return waitlist_offer_lapse(offer_id=offer_id)


@shared_task(name="waitlist.sweep", ignore_result=True)
def sweep() -> int:
    """Beat, every minute: overdue offers lapse, and every open entry is checked again."""
    return waitlist_sweep()
