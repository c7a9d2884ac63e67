"""Query filters of the booking lists (django-filter), documented in the OpenAPI schema from these classes."""

import django_filters

from backend.bookings.models import Booking, BookingStatus


class SalonBookingFilter(django_filters.FilterSet):
    # `__date` compares in the current time zone: the views activate the salon's.
    date = django_filters.DateFilter(
        field_name="start", lookup_expr="date", help_text="Bookings starting on this local date (YYYY-MM-DD)."
    )
    staff = django_filters.NumberFilter(field_name="staff_id")
    status = django_filters.ChoiceFilter(choices=BookingStatus.choices)

    class Meta:
        model = Booking
        fields = ("date", "staff", "status")
