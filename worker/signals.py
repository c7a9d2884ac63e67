"""Carries the request id (backend/core/request_id.py) from the code that enqueues a task to the worker."""

from celery.signals import before_task_publish, task_postrun, task_prerun

from backend.core.request_id import TASK_HEADER, bind_request_id, current_request_id, unbind_request_id

_tokens: dict[str, object] = {}


@before_task_publish.connect
def _stamp_request_id(headers: dict | None = None, **_kwargs) -> None:
    request_id = current_request_id()
    if headers is not None and request_id and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


@task_prerun.connect
def _restore_request_id(task_id: str | None = None, task=None, **_kwargs) -> None:
    if task is not None and task_id:
        _tokens[task_id] = bind_request_id(task.request.get(TASK_HEADER))


@task_postrun.connect
def _forget_request_id(task_id: str | None = None, **_kwargs) -> None:
    token = _tokens.pop(task_id, None) if task_id else None
    if token is not None:
        unbind_request_id(token)
