"""The mobile API, version 1 (`/api/v1/`). Each app owns its routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("backend.accounts.urls")),
    path("", include("backend.salons.urls")),
    path("", include("backend.bookings.urls")),
    path("", include("backend.notifications.urls")),
    path("", include("backend.payments.urls")),
    path("", include("backend.reviews.urls")),
    path("", include("backend.photos.urls")),
    path("", include("backend.einvoicing.urls")),
    path("", include("backend.waitlist.urls")),
]
