"""The shared test helpers of tests/support: waiting on a signal, reading an error answer."""

import pytest

from tests.support.api import error_code
from tests.support.waiting import WaitTimeout, wait_until


def test_wait_until_returns_the_conditions_first_truthy_value():
    answers = iter([None, 0, [], "ready"])
    assert wait_until(lambda: next(answers), timeout=5, interval=0) == "ready"


def test_wait_until_checks_at_least_once_even_without_time():
    assert wait_until(lambda: True, timeout=0) is True


def test_wait_until_raises_naming_the_condition_and_the_late_detail():
    state = {"status": "pending"}

    def refund_succeeded():
        return state["status"] == "succeeded"

    with pytest.raises(WaitTimeout) as raised:
        wait_until(refund_succeeded, timeout=0.01, interval=0.005, message=lambda: state["status"])
    text = str(raised.value)
    assert "refund_succeeded" in text and "last value False" in text and text.endswith(": pending")
    assert isinstance(raised.value, AssertionError)  # pytest reports it as a failed assertion


def test_wait_until_takes_a_plain_message():
    with pytest.raises(WaitTimeout, match=r"nobody waited on a lock$"):
        wait_until(lambda: 0, timeout=0, message="nobody waited on a lock")


class _Answer:
    def __init__(self, body):
        self.body = body

    def json(self):
        return self.body


def test_error_code_reads_the_contracts_error_shape():
    assert error_code(_Answer({"error": {"code": "slot_taken", "message": "Taken"}})) == "slot_taken"
    with pytest.raises(KeyError):
        error_code(_Answer({"detail": "not the contract's shape"}))
