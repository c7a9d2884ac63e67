from django.urls import path

from backend.bookings import salon_views, views
from backend.salons.urls import MANAGE, STAFF

urlpatterns = [
    path("bookings/", views.BookingListCreateView.as_view(), name="bookings"),
    path("bookings/<int:booking_id>/", views.BookingDetailView.as_view(), name="booking"),
    path("bookings/<int:booking_id>/cancel/", views.BookingCancelView.as_view(), name="booking-cancel"),
    path(
        "bookings/<int:booking_id>/reschedule/",
        views.BookingRescheduleView.as_view(),
        name="booking-reschedule",
    ),
    path("bookings/<int:booking_id>/complete/", views.BookingCompleteView.as_view(), name="booking-complete"),
    path("bookings/<int:booking_id>/no-show/", views.BookingNoShowView.as_view(), name="booking-no-show"),
    # Under a salon's paths (salons/urls.py routes the rest of them)
    path(
        "salons/<int:salon_id>/availability/",
        salon_views.AvailabilityView.as_view(),
        name="salon-availability",
    ),
    path(f"{MANAGE}/bookings/", salon_views.SalonBookingListView.as_view(), name="manage-bookings"),
    path(
        f"{STAFF}/cancel-upcoming/",
        salon_views.StaffCancelUpcomingView.as_view(),
        name="manage-staff-cancel-upcoming",
    ),
]
