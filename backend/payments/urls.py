from django.urls import path

from backend.payments import views

urlpatterns = [
    path("bookings/<int:booking_id>/payments/", views.PaymentCreateView.as_view(), name="booking-payments"),
    path("payments/webhook/", views.PaymentWebhookView.as_view(), name="payments-webhook"),
    path("payments/<uuid:payment_id>/", views.PaymentDetailView.as_view(), name="payment"),
    path(
        "manage/payments/<uuid:payment_id>/capture/",
        views.PaymentCaptureView.as_view(),
        name="payment-capture",
    ),
    path(
        "manage/payments/<uuid:payment_id>/refund/", views.PaymentRefundView.as_view(), name="payment-refund"
    ),
    path("manage/payments/<uuid:payment_id>/void/", views.PaymentVoidView.as_view(), name="payment-void"),
    path(
        "manage/salons/<int:salon_id>/bookings/<int:booking_id>/checkout/",
        views.BookingCheckoutView.as_view(),
        name="booking-checkout",
    ),
]
