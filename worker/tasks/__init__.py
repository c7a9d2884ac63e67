"""Task modules. Tasks are thin: they take ids, call a backend service, and are safe to run twice."""

from worker.tasks import (  # noqa: F401
    bookings,
    core,
    einvoicing,
    notifications,
    payments,
    photos,
    retention,
    waitlist,
)
