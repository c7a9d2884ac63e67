"""Task modules. Tasks are thin: they take ids, call a backend service, and are safe to run twice."""

from worker.tasks import bookings, core, einvoicing, notifications, payments, photos, retention  # noqa: F401
