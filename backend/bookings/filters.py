"""Query filters of the booking lists (django-filter), documented in the OpenAPI schema from these classes."""

import django_filters

from backend.bookings.models import Booking, BookingItem, BookingStatus
from backend.core.filters import IdFilter


class SalonBookingFilter(django_filters.FilterSet):
    # `__date` compares in the current time zone: the views activate the salon's.
    date = django_filters.DateFilter(
        field_name="start", lookup_expr="date", help_text="Bookings starting on this local date (YYYY-MM-DD)."
    )
    staff = IdFilter(
        method="with_staff",
        help_text="Bookings with an item of this staff member's (a visit's, any of them).",
    )
    status = django_filters.ChoiceFilter(choices=BookingStatus.choices)

    class Meta:
        model = Booking
        fields = ("date", "staff", "status")

    def with_staff(self, queryset, name: str, value: int):
        return queryset.filter(pk__in=BookingItem.objects.filter(staff_id=value).values("booking_id"))
