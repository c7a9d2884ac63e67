"""The salons-bookings seam: bookings builds on salons, never the other way round.

Time off, closures and special hours show how many bookings they are in the way of (`bookings_in_the_way`),
and time off and closures may ask for those bookings to be cancelled. Both are bookings' knowledge: salons
reaches it only through what bookings registers here from its AppConfig.ready:

    register_in_the_way_counter(InTheWayCounter(of_time_off=..., of_closure=..., of_special_hours=...))
    register_cancellation_request_hook(cancellation_enqueue)

An in-the-way counter answers, for each kind of row:
- `of_time_off(staff_id=..., start=..., end=...)` and `of_closure(salon=..., first=..., last=...)`: an
  integer expression (a subquery) to annotate the rows with; the arguments are OuterRef()s to their fields;
- `of_special_hours(spans, salon=..., staff=...)`: a count for each span, in their order.
With several counters the counts add up; with none, nothing is in the way.

A cancellation request hook is `hook(kind="time_off" | "closure", row_id=...)`: it runs inside the
transaction that creates the row (which records the request on itself) and only enqueues work on commit."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import IntegerField, Value
from django.db.models.expressions import Combinable

from backend.core.hooks import HookList


@dataclass(frozen=True)
class InTheWayCounter:
    of_time_off: Callable[..., Combinable]
    of_closure: Callable[..., Combinable]
    of_special_hours: Callable[..., Sequence[int]]


_counters = HookList()
_cancellation_requests = HookList()


def register_in_the_way_counter(counter: InTheWayCounter) -> None:
    """Adds `counter`; registering the same counter again does nothing."""
    _counters.register(counter)


def register_cancellation_request_hook(hook: Callable[..., Any]) -> None:
    """Adds `hook(kind=..., row_id=...)`; registering it again does nothing."""
    _cancellation_requests.register(hook)


def _total(counts: list[Combinable]) -> Combinable:
    return sum(counts[1:], counts[0]) if counts else Value(0, output_field=IntegerField())


def time_off_in_the_way(*, staff_id: Any, start: Any, end: Any) -> Combinable:
    return _total([counter.of_time_off(staff_id=staff_id, start=start, end=end) for counter in _counters])


def closure_in_the_way(*, salon: Any, first: Any, last: Any) -> Combinable:
    return _total([counter.of_closure(salon=salon, first=first, last=last) for counter in _counters])


def special_hours_in_the_way(spans: Sequence[Any], *, salon: Any, staff: Any) -> list[int]:
    counts = [0] * len(spans)
    for counter in _counters:
        counts = [
            a + b
            for a, b in zip(counts, counter.of_special_hours(spans, salon=salon, staff=staff), strict=True)
        ]
    return counts


def cancellation_request_hooks_run(*, kind: str, row_id: int) -> None:
    for hook in _cancellation_requests:
        hook(kind=kind, row_id=row_id)
