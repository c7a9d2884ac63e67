"""backend/core/tasks.py: tasks are published after commit, and a broker outage then fails no request."""

import logging

import pytest
from kombu.exceptions import OperationalError as BrokerUnavailable

from backend.core.tasks import enqueue_on_commit
from worker.tasks.core import echo


@pytest.mark.django_db
def test_a_task_is_published_only_when_the_transaction_commits(
    monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(echo, "apply_async", lambda args, countdown: published.append((args, countdown)))
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(echo, "x", countdown=5, recovery="a sweep")
        assert published == []
    assert published == [(("x",), 5)]


@pytest.mark.django_db
def test_an_unreachable_broker_after_commit_is_logged_not_raised(
    monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broker_down(args, countdown):
        raise BrokerUnavailable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(echo, "apply_async", broker_down)
    with (
        caplog.at_level(logging.WARNING, logger="backend.core.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        enqueue_on_commit(echo, "x", recovery="the sweep sends it")
    assert "core.echo('x',) was not enqueued" in caplog.text
    assert "the sweep sends it" in caplog.text


@pytest.mark.django_db
def test_on_failure_runs_only_when_the_broker_refused(monkeypatch, django_capture_on_commit_callbacks):
    undone = []

    def broker_down(args, countdown):
        raise BrokerUnavailable("Connection refused.")

    monkeypatch.setattr(echo, "apply_async", lambda args, countdown: None)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(echo, "x", recovery="a sweep", on_failure=lambda: undone.append("x"))
    assert undone == []
    monkeypatch.setattr(echo, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(echo, "y", recovery="a sweep", on_failure=lambda: undone.append("y"))
    assert undone == ["y"]


@pytest.mark.django_db
def test_other_errors_are_not_hidden(monkeypatch, django_capture_on_commit_callbacks):
    def bug(args, countdown):
        raise TypeError("a bug, not an outage")

    monkeypatch.setattr(echo, "apply_async", bug)
    with pytest.raises(TypeError), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(echo, "x", recovery="the sweep sends it")
