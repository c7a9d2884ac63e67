# `celery -A worker ...` finds the app here.
from worker.celery import app

__all__ = ("app",)
