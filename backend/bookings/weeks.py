"""Salon weeks: weekly ranges and special-hours spans turned into dated stretches of absolute time.

Pure functions over frozen values (no database, no I/O), used by the availability engine.

- A range is a wall-clock range on one weekday; an ``end`` at or before its ``start`` ends on the next
  day ("00:00" is midnight), so Thursday 16:00-02:00 runs to Friday 02:00. A range lasts less than 24 h.
- A range belongs to the local date it starts on: Thursday's night range is Thursday's, and a booking at
  00:30 Friday inside it is a Thursday booking.
- A special-hours span replaces the weekly ranges on each of its local dates by its own week's ranges
  for that weekday (a weekday absent is closed). A night range of its last date still spills into the
  next morning, as a weekly one does.
- Wall times are read with ``fold=0`` and normalised through UTC: an ambiguous time (fall-back) is its
  first occurrence, a nonexistent one (spring-forward gap) lands as far past the gap as it was into it.
  A range whose start falls outside its date's instants (a date the zone skipped) or that collapses to
  nothing is dropped.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from backend.salons.validators import DAY_CODES  # the weekday codes salons define

# A half-open stretch [start, end) of UTC time. Plain tuples keep the engine's inner loops cheap.
Span = tuple[datetime, datetime]

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class HoursRange:
    """One wall-clock range starting on one weekday (0 = Monday, as ``date.weekday()``); it ends on the
    next day when ``end`` is at or before ``start``."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {self.weekday}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("Hours are wall-clock times in the salon's zone; pass naive times")
        if self.end == self.start:
            raise ValueError(f"Hours must last less than 24 hours: {self.start} .. {self.end}")

    @property
    def overnight(self) -> bool:
        """Whether the range ends on the next day."""
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """A week of hours, several ranges a day allowed; a weekday without ranges is closed (or off)."""

    ranges: tuple[HoursRange, ...] = ()

    def ranges_on(self, weekday: int) -> list[HoursRange]:
        return [hours_range for hours_range in self.ranges if hours_range.weekday == weekday]


@dataclass(frozen=True, slots=True)
class SpecialHours:
    """A span of local dates, first_day .. last_day inclusive, on which ``hours`` replace the weekly ones."""

    first_day: date
    last_day: date
    hours: WeeklyHours

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError(
                f"A span must end on or after its first day: {self.first_day} .. {self.last_day}"
            )


def week_from_json(items: list[dict[str, str]]) -> WeeklyHours:
    """A week as the API writes it and special hours store it: [{"day": "thu", "start": "16:00", ...}]."""
    return WeeklyHours(
        tuple(
            HoursRange(
                DAY_CODES.index(item["day"]),
                time.fromisoformat(item["start"]),
                time.fromisoformat(item["end"]),
            )
            for item in items
        )
    )


def ranges_on(local_date: date, weekly: WeeklyHours, special: tuple[SpecialHours, ...]) -> list[HoursRange]:
    """The ranges starting on ``local_date``: its special-hours span's, else the weekly ones."""
    for span in special:
        if span.first_day <= local_date <= span.last_day:
            return span.hours.ranges_on(local_date.weekday())
    return weekly.ranges_on(local_date.weekday())


def dated_spans(local_date: date, ranges: list[HoursRange], tz: ZoneInfo) -> list[Span]:
    """The UTC stretches of the ranges starting on ``local_date``, sorted (they may overlap or touch)."""
    if not ranges:
        return []
    day_start, next_day_start = (
        wall_to_utc(local_date, time.min, tz),
        wall_to_utc(local_date + ONE_DAY, time.min, tz),
    )
    spans = []
    for hours_range in ranges:
        start = wall_to_utc(local_date, hours_range.start, tz)
        end = wall_to_utc(local_date + ONE_DAY if hours_range.overnight else local_date, hours_range.end, tz)
        # Collapsed in a spring-forward gap, or on a date the zone skipped (its start is the next date's).
        if start < end and day_start <= start < next_day_start:
            spans.append((start, end))
    spans.sort()
    return spans


def wall_to_utc(local_date: date, wall_time: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(local_date, wall_time.replace(fold=0), tzinfo=tz).astimezone(UTC)
