from django.urls import path

from backend.bookings import views

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
]
