from django.urls import path

from backend.reviews import views

urlpatterns = [
    path("bookings/<int:booking_id>/review/", views.BookingReviewView.as_view(), name="booking-review"),
    path("salons/<int:salon_id>/reviews/", views.SalonReviewListView.as_view(), name="salon-reviews"),
    path(
        "manage/salons/<int:salon_id>/reviews/<int:review_id>/reply/",
        views.ReviewReplyView.as_view(),
        name="manage-review-reply",
    ),
    path("admin/reviews/<int:review_id>/hide/", views.ReviewHideView.as_view(), name="admin-review-hide"),
    path(
        "admin/reviews/<int:review_id>/unhide/", views.ReviewUnhideView.as_view(), name="admin-review-unhide"
    ),
]
