from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "backend.bookings"
    label = "bookings"

    def ready(self) -> None:
        from backend.accounts.deletion import register_account_deletion_hook
        from backend.accounts.export import register_personal_data_section
        from backend.bookings.selectors import booking_personal_data
        from backend.bookings.services import bookings_cancel_for_deleted_account

        register_account_deletion_hook(bookings_cancel_for_deleted_account)
        register_personal_data_section("bookings", booking_personal_data)
