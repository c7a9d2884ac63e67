from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "backend.bookings"
    label = "bookings"

    def ready(self) -> None:
        from backend.accounts.deletion import register_account_deletion_hook
        from backend.accounts.export import register_personal_data_section
        from backend.bookings.bulk_cancellations import cancellation_enqueue
        from backend.bookings.in_the_way import IN_THE_WAY
        from backend.bookings.selectors import booking_personal_data
        from backend.bookings.services import bookings_cancel_for_deleted_account
        from backend.salons.booking_hooks import (
            register_cancellation_request_hook,
            register_in_the_way_counter,
        )

        register_account_deletion_hook(bookings_cancel_for_deleted_account)
        register_personal_data_section("bookings", booking_personal_data)
        register_in_the_way_counter(IN_THE_WAY)
        register_cancellation_request_hook(cancellation_enqueue)
