"""Waiting on a real signal instead of sleeping: poll a condition until it holds, fail loudly if it never
does. The timeout is a safety net against a hung test, never part of what a test asserts: a slow machine
makes a passing test slower, not red."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition never held within the timeout; an AssertionError so pytest shows it as a failure."""


def wait_until(
    condition: Callable[[], T],
    timeout: float = 30.0,
    interval: float = 0.05,
    message: str | Callable[[], object] | None = None,
) -> T:
    """Polls ``condition()`` until it returns something truthy and returns that value.

    Raises WaitTimeout after ``timeout`` seconds, naming the condition and ``message`` (a string, or a
    callable evaluated at that moment, e.g. to show the row's state when the wait gave up)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    name = getattr(condition, "__qualname__", repr(condition))
    detail = message() if callable(message) else message
    suffix = f": {detail}" if detail is not None else ""
    raise WaitTimeout(f"gave up after {timeout:g} s waiting for {name} (last value {value!r}){suffix}")
