"""Arithmetic on sorted lists of half-open UTC stretches, each pass linear (the engine's inner loops)."""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import datetime

from backend.bookings.weeks import Span


class DisjointSpans:
    """Sorted, disjoint, non-touching spans, with their starts and ends kept apart for bisect."""

    __slots__ = ("_ends", "_starts", "spans")

    def __init__(self, spans: Iterable[Span]) -> None:
        self.spans = merge(spans)
        self._starts = [start for start, _ in self.spans]
        self._ends = [end for _, end in self.spans]

    def overlapping(self, start: datetime, end: datetime) -> list[Span]:
        """The spans that overlap [start, end)."""
        return self.spans[bisect_right(self._ends, start) : bisect_left(self._starts, end)]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        first_ending_after_start = bisect_right(self._ends, start)
        return first_ending_after_start < len(self.spans) and self._starts[first_ending_after_start] < end

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) lies inside one span (touching spans are merged, so inside the union)."""
        last_starting_by_start = bisect_right(self._starts, start) - 1
        return last_starting_by_start >= 0 and self._ends[last_starting_by_start] >= end


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorts spans and unites those that overlap or touch."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def intersect(first: list[Span], second: list[Span]) -> list[Span]:
    """The intersection of two sorted, disjoint span lists, in one linear pass."""
    result: list[Span] = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            result.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return result


def subtract(spans: list[Span], holes: list[Span]) -> list[Span]:
    """``spans`` minus ``holes``, both sorted and disjoint, in one linear pass."""
    result: list[Span] = []
    first_relevant_hole = 0
    for start, end in spans:
        while first_relevant_hole < len(holes) and holes[first_relevant_hole][1] <= start:
            first_relevant_hole += 1
        # A hole can reach into the next span too, so scan from first_relevant_hole without consuming it.
        hole = first_relevant_hole
        while hole < len(holes) and holes[hole][0] < end:
            if holes[hole][0] > start:
                result.append((start, holes[hole][0]))
            start = max(start, holes[hole][1])
            hole += 1
        if start < end:
            result.append((start, end))
    return result
