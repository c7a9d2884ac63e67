from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "backend.payments"
    label = "payments"

    def ready(self) -> None:
        from backend.accounts.export import register_personal_data_section
        from backend.bookings.payment_hooks import register_paid_halalas_source, register_refund_request_hook
        from backend.payments.selectors import booking_paid_halalas, payment_personal_data
        from backend.payments.services import refunds_request_for_booking

        register_personal_data_section("payments", payment_personal_data)
        register_paid_halalas_source(booking_paid_halalas)
        register_refund_request_hook(refunds_request_for_booking)
