"""A list of hooks other apps register from their AppConfig.ready, run by the app that defines it: how an
app reaches one that builds on it without importing it (payments' money events, bookings' refund
requests)."""

from collections.abc import Callable, Iterator
from typing import Any


class HookList:
    """Hooks in registration order; registering the same hook again does nothing."""

    def __init__(self) -> None:
        self._hooks: list[Callable[..., Any]] = []

    def register(self, hook: Callable[..., Any]) -> None:
        if hook not in self._hooks:
            self._hooks.append(hook)

    def __iter__(self) -> Iterator[Callable[..., Any]]:
        return iter(self._hooks)
