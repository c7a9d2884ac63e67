"""The body of the availability answer, written as JSON text directly.

The availability list is the API's hottest read, and its body is large: 20 staff members over 7 days are
thousands of slots. Built as dicts and rendered by DRF's JSONRenderer, converting each instant to the
salon's zone and to text, then encoding it, cost about as much as loading the schedules and computing the
slots together. So the body is written here, byte for byte what JSONRenderer wrote for those dicts
(`tests/salons/test_availability_body.py` compares them, in a DST zone too): the shape of
`AvailabilitySerializer` (which documents it in the schema), keys in its order, compact separators,
times in the salon's zone with their explicit offset, slots in the order given (by start, then staff).

Every value is known: the zone's name (JSON-encoded), ISO 8601 times (digits, `-`, `:`, `T`, `+`, `.`:
nothing to escape) and integer ids. Staff members share the slot grid, so a week has far fewer distinct
instants than slots: each is converted once.
"""

import json

from backend.bookings.availability import Slot
from backend.bookings.visits import VisitSlot
from backend.salons.models import Salon

CONTENT_TYPE = "application/json"  # JSONRenderer's media type, without a charset, as DRF sends it


def availability_json(*, salon: Salon, slots: list[Slot]) -> bytes:
    """`{"timezone": ..., "slots": [{"start", "end", "staff_id"}, ...]}` as compact JSON."""
    tz = salon.tz
    instants = {slot.start for slot in slots}
    instants.update(slot.end for slot in slots)
    local = {moment: moment.astimezone(tz).isoformat() for moment in instants}
    body = ",".join(
        [
            f'{{"start":"{local[start]}","end":"{local[end]}","staff_id":{staff_id:d}}}'
            for start, end, staff_id in slots  # a Slot is a named tuple
        ]
    )
    zone = json.dumps(salon.timezone, ensure_ascii=False)
    return f'{{"timezone":{zone},"slots":[{body}]}}'.encode()


def visit_availability_json(*, salon: Salon, services: list[int], slots: list[VisitSlot]) -> bytes:
    """The same answer for a visit: each slot with its `items` (`service`, `staff_id`, `start`, `end`)."""
    tz = salon.tz
    local: dict = {}

    def at(moment) -> str:
        text = local.get(moment)
        if text is None:
            text = local[moment] = moment.astimezone(tz).isoformat()
        return text

    body = ",".join(
        [
            f'{{"start":"{at(slot.start)}","end":"{at(slot.end)}","staff_id":{slot.staff_id:d},"items":['
            + ",".join(
                f'{{"service":{service:d},"staff_id":{item.staff_id:d},'
                f'"start":"{at(item.start)}","end":"{at(item.end)}"}}'
                for service, item in zip(services, slot.items, strict=True)
            )
            + "]}"
            for slot in slots
        ]
    )
    zone = json.dumps(salon.timezone, ensure_ascii=False)
    return f'{{"timezone":{zone},"slots":[{body}]}}'.encode()
